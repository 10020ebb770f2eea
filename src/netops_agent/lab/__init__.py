"""Lab backends: the network the agent works on."""
