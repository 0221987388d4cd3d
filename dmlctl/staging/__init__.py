"""A job's input: stored once per content here, linked into work directories, put on every
node; and the datasets published for a whole class."""
