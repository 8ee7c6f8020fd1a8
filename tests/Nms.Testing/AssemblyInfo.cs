// The fixtures drive Debian daemons (snmpd, sshd): Linux only.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
