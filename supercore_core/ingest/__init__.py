"""Document ingestion: parse uploaded files into blocks and chunk them for embedding."""
