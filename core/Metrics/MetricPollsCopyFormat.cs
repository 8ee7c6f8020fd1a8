using System.Buffers.Binary;

namespace Nms.Core.Metrics;

/// <summary>
/// Rows of <c>metric_polls (device_id, ts, series_ids, series_values)</c> in PostgreSQL's binary COPY format
/// (the COPY reference's "Binary Format"; arrays as array_send writes them). Each writer call encodes its own
/// rows while it prepares, in parallel with the others, so the one transaction a write group shares only streams
/// bytes. Npgsql's importer would encode the same fields, field by field, on that shared path.
/// </summary>
internal static class MetricPollsCopyFormat
{
    /// <summary>The COPY's header: signature, flags, no header extension.</summary>
    public static ReadOnlyMemory<byte> Header { get; } = new byte[] { (byte)'P', (byte)'G', (byte)'C', (byte)'O', (byte)'P', (byte)'Y', (byte)'\n', 0xff, (byte)'\r', (byte)'\n', 0, 0, 0, 0, 0, 0, 0, 0, 0 };

    /// <summary>The end of the data: a field count of -1.</summary>
    public static ReadOnlyMemory<byte> Trailer { get; } = new byte[] { 0xff, 0xff };

    private const int Int8Oid = 20;
    private const int Float8Oid = 701;
    private const int FieldCount = 4;

    // PostgreSQL's timestamps count microseconds from 2000-01-01 UTC; DateTime's ticks from 0001-01-01.
    private static readonly long PostgresEpochTicks = new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;

    /// <summary>One row per poll that has samples (series ids in <paramref name="seriesIds"/>, parallel to each poll's values); and how many samples they hold.</summary>
    public static (byte[] Rows, int Samples) Encode(IReadOnlyList<MetricPoll> polls, long[][] seriesIds)
    {
        var size = 0;
        var samples = 0;
        foreach (var ids in seriesIds)
        {
            size += ids.Length > 0 ? RowSize(ids.Length) : 0;
            samples += ids.Length;
        }

        var rows = new byte[size];
        var at = 0;
        double[] values = [];
        for (var p = 0; p < polls.Count; p++)
        {
            if (seriesIds[p].Length == 0)
            {
                continue;
            }

            if (values.Length != seriesIds[p].Length)
            {
                values = new double[seriesIds[p].Length];
            }

            for (var v = 0; v < values.Length; v++)
            {
                values[v] = polls[p].Values[v].Value;
            }

            at += WriteRow(rows.AsSpan(at), polls[p].DeviceId, polls[p].Ts, seriesIds[p], values);
        }

        return (rows, samples);
    }

    /// <summary>The encoded size of one row holding <paramref name="samples"/> series.</summary>
    private static int RowSize(int samples) => 2 + (4 + 8) + (4 + 8) + 2 * ArraySize(samples);

    /// <summary>Writes one row at the start of <paramref name="destination"/>; returns the bytes written.</summary>
    private static int WriteRow(Span<byte> destination, long deviceId, DateTimeOffset ts, ReadOnlySpan<long> seriesIds, ReadOnlySpan<double> values)
    {
        var at = 0;
        BinaryPrimitives.WriteInt16BigEndian(destination, FieldCount);
        at += 2;
        at += WriteInt64Field(destination[at..], deviceId);
        at += WriteInt64Field(destination[at..], (ts.UtcTicks - PostgresEpochTicks) / TimeSpan.TicksPerMicrosecond);
        at += WriteArrayHeader(destination[at..], Int8Oid, seriesIds.Length);
        foreach (var id in seriesIds)
        {
            at += WriteInt64Field(destination[at..], id);
        }

        at += WriteArrayHeader(destination[at..], Float8Oid, values.Length);
        foreach (var value in values)
        {
            at += WriteInt64Field(destination[at..], BitConverter.DoubleToInt64Bits(value));
        }

        return at;
    }

    private static int ArraySize(int elements) => 4 + 20 + elements * (4 + 8);

    private static int WriteInt64Field(Span<byte> destination, long value)
    {
        BinaryPrimitives.WriteInt32BigEndian(destination, 8);
        BinaryPrimitives.WriteInt64BigEndian(destination[4..], value);
        return 12;
    }

    /// <summary>The field's length, then a one-dimensional array without nulls: ndim, has-nulls, element type, size, lower bound.</summary>
    private static int WriteArrayHeader(Span<byte> destination, int elementOid, int elements)
    {
        BinaryPrimitives.WriteInt32BigEndian(destination, ArraySize(elements) - 4);
        BinaryPrimitives.WriteInt32BigEndian(destination[4..], 1);
        BinaryPrimitives.WriteInt32BigEndian(destination[8..], 0);
        BinaryPrimitives.WriteInt32BigEndian(destination[12..], elementOid);
        BinaryPrimitives.WriteInt32BigEndian(destination[16..], elements);
        BinaryPrimitives.WriteInt32BigEndian(destination[20..], 1);
        return 24;
    }
}
