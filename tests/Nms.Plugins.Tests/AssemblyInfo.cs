global using Nms.Testing;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
