"""A deployed cluster: how a command reaches it, its status, and the operations run on it
(playbook runs, access grants, logs)."""
