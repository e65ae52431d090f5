"""Thin resolvers: from the request's context and arguments to `app` services and loaders."""
