"""Cart resolvers."""
