"""Accounts: users, staff permissions, passwords and tokens."""
