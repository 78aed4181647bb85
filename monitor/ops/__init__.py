"""Running unattended: the operator services of the daemon (/healthz, /metrics, heartbeat,
systemd notifications), faults, logs, resources, and the admins' source watch."""
