"""Token prices: the maintained ``genai-prices`` data (dated, per provider), overridable.

A model nobody has priced is *unpriced* (``None``), never $0. The offline answerer makes no
API call and costs exactly $0.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from genai_prices import Usage, calc_price

from supercore_core.config import Settings
from supercore_core.llm import OFFLINE_MODEL

MTOK = Decimal(1_000_000)


@dataclass(frozen=True)
class ModelPrice:
    """What a model costs, per million tokens (the base tier where prices are tiered)."""

    provider: str
    model: str
    input_per_mtok: Decimal
    output_per_mtok: Decimal
    source: str


def price_for(
    provider: str, model: str, *, settings: Settings, at: datetime | None = None
) -> ModelPrice | None:
    """The price of ``provider/model`` at ``at`` (now by default), or None when unpriced."""
    override = settings.price_overrides.get(f"{provider}/{model}")
    if override is not None:
        return ModelPrice(
            provider, model, override.input_per_mtok, override.output_per_mtok, "override"
        )
    if provider == "offline" or model == OFFLINE_MODEL:
        return ModelPrice(provider, model, Decimal(0), Decimal(0), "offline: no API call")
    per_mtok = _calc(provider, model, 1_000, 1_000, at)
    if per_mtok is None:
        return None
    input_price, output_price, source = per_mtok
    return ModelPrice(provider, model, input_price * 1000, output_price * 1000, source)


def cost_of(
    provider: str,
    model: str,
    input_tokens: int,
    output_tokens: int,
    *,
    settings: Settings,
    at: datetime | None = None,
) -> Decimal | None:
    """USD for one call (tiered prices applied to this call's usage), None when unpriced."""
    price = price_for(provider, model, settings=settings, at=at)
    if price is None:
        return None
    if price.source.startswith("genai-prices"):
        calculated = _calc(provider, model, input_tokens, output_tokens, at)
        if calculated is not None:
            return calculated[0] + calculated[1]
    return (input_tokens * price.input_per_mtok + output_tokens * price.output_per_mtok) / MTOK


def _calc(
    provider: str, model: str, input_tokens: int, output_tokens: int, at: datetime | None
) -> tuple[Decimal, Decimal, str] | None:
    usage = Usage(input_tokens=input_tokens, output_tokens=output_tokens)
    try:
        result = calc_price(usage, model, provider_id=provider, genai_request_timestamp=at)
    except LookupError:
        return None
    source = f"genai-prices {result.provider.id}/{result.model.id}"
    return Decimal(result.input_price), Decimal(result.output_price), source
