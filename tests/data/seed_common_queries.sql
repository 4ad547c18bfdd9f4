-- The "Common Queries" section of ../shared/seed/supercore-database-README.md, verbatim.
-- tests/test_seed_sql.py replaces only the placeholder ids ('solution-uuid', ...) with real ones.

-- @block Creating a Solution with RAG Global Oracle
-- Create a new solution
INSERT INTO solutions (slug, name, industry, status)
VALUES ('acme-corp', 'ACME Corporation', 'fintech', 'active')
RETURNING id;

-- Automatically create RAG Global Oracle
SELECT create_rag_global_oracle('returned-solution-uuid');

-- @block Creating an Oracle
-- Set solution context first
SELECT set_current_solution('solution-uuid');

-- Create oracle
INSERT INTO oracles (
    solution_id,
    oracle_name,
    oracle_type,
    system_prompt,
    llm_provider,
    llm_model
) VALUES (
    'solution-uuid',
    'financial-advisor',
    'domain',
    'You are a financial advisor specializing in investment strategies.',
    'anthropic',
    'claude-3-5-sonnet-20241022'
) RETURNING id;

-- @block Uploading a Document
-- Set solution context
SELECT set_current_solution('solution-uuid');

-- Insert document
INSERT INTO documents (
    oracle_id,
    solution_id,
    filename,
    file_type,
    file_size_bytes,
    storage_path,
    mime_type
) VALUES (
    'oracle-uuid',
    'solution-uuid',
    'investment-guide.pdf',
    'pdf',
    1048576,
    '/storage/solutions/acme-corp/documents/investment-guide.pdf',
    'application/pdf'
) RETURNING id;

-- @block Creating Conversation and Messages
-- Set solution context
SELECT set_current_solution('solution-uuid');

-- Get or create conversation
SELECT get_or_create_conversation(
    'oracle-uuid',
    'solution-uuid',
    'session-12345'
);

-- Add user message
INSERT INTO messages (
    conversation_id,
    oracle_id,
    solution_id,
    role,
    content,
    sequence_number
) VALUES (
    'conversation-uuid',
    'oracle-uuid',
    'solution-uuid',
    'user',
    'What are the best investment strategies for 2025?',
    (SELECT get_next_message_sequence('conversation-uuid'))
);

-- Add assistant response with sources
INSERT INTO messages (
    conversation_id,
    oracle_id,
    solution_id,
    role,
    content,
    sequence_number,
    sources,
    input_tokens,
    output_tokens,
    total_tokens,
    model_used
) VALUES (
    'conversation-uuid',
    'oracle-uuid',
    'solution-uuid',
    'assistant',
    'Based on the current market analysis...',
    (SELECT get_next_message_sequence('conversation-uuid')),
    '[{"chunk_id": "chunk-uuid", "document_id": "doc-uuid", "relevance_score": 0.95}]'::jsonb,
    150,
    350,
    500,
    'claude-3-5-sonnet-20241022'
);

-- @block Tracking Workflows
-- Create workflow tracking entry
SELECT create_workflow_tracking(
    'process-doc-001',           -- workflow_id
    'ProcessDocumentWorkflow',   -- workflow_type
    '{"document_id": "doc-uuid"}'::jsonb,  -- input_data
    'solution-uuid',             -- solution_id
    'oracle-uuid',               -- oracle_id
    'document-uuid'              -- document_id
);

-- Update progress
SELECT update_workflow_progress(
    'process-doc-001',
    'Generating embeddings',
    3,
    5
);

-- Complete workflow
SELECT complete_workflow(
    'process-doc-001',
    '{"chunks_created": 42, "embeddings_generated": 42}'::jsonb
);
