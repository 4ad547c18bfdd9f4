"""Operating the database: backup and restore, maintenance, the doctor, the audit log."""
