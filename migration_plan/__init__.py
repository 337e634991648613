"""Migration plans: discovery of the monolith, playbooks per capability, and the engine that runs them."""
