"""Security material: the cluster's secrets, TLS certificates, credentials, access profiles,
and whether a cluster runs secure."""
