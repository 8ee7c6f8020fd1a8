namespace Nms.Plugins.Sdk;

public static class ExitCodes
{
    public const int Ran = 0;
    public const int Usage = 2;
    public const int MalformedRequest = 3;
    public const int UnsupportedVersion = 4;
    public const int Failed = 1;
}
