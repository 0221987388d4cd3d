"""Ansible from Python: reading inventories, running the project's playbooks through
ansible-runner, and what their events say."""
