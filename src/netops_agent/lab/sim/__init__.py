"""The digital twin: a seeded network whose symptoms follow from its causes."""
