"""Running a class or a competition: rosters of accounts, and their credentials sheet."""
