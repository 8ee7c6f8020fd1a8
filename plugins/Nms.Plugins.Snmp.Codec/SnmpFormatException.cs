namespace Nms.Plugins.Snmp.Codec;

/// <summary>The only exception the decoder throws; TryDecode turns it into a false result.</summary>
public sealed class SnmpFormatException : Exception
{
    public SnmpFormatException()
    {
    }

    public SnmpFormatException(string message) : base(message)
    {
    }

    public SnmpFormatException(string message, Exception inner) : base(message, inner)
    {
    }
}

public static class SnmpFormat
{
    /// <summary>Runs a decoder and turns its <see cref="SnmpFormatException"/> into a false result with the reason.</summary>
    public static bool TryDecode<TInput, TResult>(TInput input, Func<TInput, TResult> decode, out TResult? result, out string? error)
        where TInput : allows ref struct
    {
        ArgumentNullException.ThrowIfNull(decode);
        try
        {
            result = decode(input);
            error = null;
            return true;
        }
        catch (SnmpFormatException ex)
        {
            result = default;
            error = ex.Message;
            return false;
        }
    }
}

/// <summary>A failed exchange with one agent: timeouts, reports, error-status, refused ports.</summary>
public class SnmpException : Exception
{
    public SnmpException()
    {
    }

    public SnmpException(string message) : base(message)
    {
    }

    public SnmpException(string message, Exception inner) : base(message, inner)
    {
    }
}

public sealed class SnmpTimeoutException : SnmpException
{
    public SnmpTimeoutException()
    {
    }

    public SnmpTimeoutException(string message) : base(message)
    {
    }

    public SnmpTimeoutException(string message, Exception inner) : base(message, inner)
    {
    }
}

/// <summary>The agent answered with a non-zero error-status; <see cref="Index"/> is the 1-based variable it names.</summary>
public sealed class SnmpErrorStatusException : SnmpException
{
    public const int NoSuchName = 2;

    public SnmpErrorStatusException()
    {
    }

    public SnmpErrorStatusException(string message) : base(message)
    {
    }

    public SnmpErrorStatusException(string message, Exception inner) : base(message, inner)
    {
    }

    public SnmpErrorStatusException(int status, int index)
        : base($"agent answered {Pdu.ErrorName(status)} (error-status {status}, index {index})")
    {
        Status = status;
        Index = index;
    }

    public int Status { get; }

    public int Index { get; }
}
