"""Account resolvers: sign-in, sessions and the signed-in user."""
