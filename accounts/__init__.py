"""Users, roles (viewer / operator / admin), API tokens and sign-in throttling."""
