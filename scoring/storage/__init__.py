"""Storage: SQLModel tables, the database engine with safe transactions, and migrations."""
