"""Running the replicator as a service: the platform-neutral runner, and the installers for systemd and Windows."""
