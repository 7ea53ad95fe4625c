"""Where settings come from: flags, the environment, `.env`, profiles, preferences."""
