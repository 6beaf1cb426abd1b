"""HTTP plumbing shared by every router: problems, auth, pagination, preconditions, request context."""
