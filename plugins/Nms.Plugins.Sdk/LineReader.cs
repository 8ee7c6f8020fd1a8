namespace Nms.Plugins.Sdk;

/// <summary>A line longer than the reader's cap: the other side does not speak the protocol.</summary>
public sealed class LineTooLongException(int maxLineBytes) : IOException($"a line is longer than {maxLineBytes} bytes");

/// <summary>
/// Reads newline-terminated lines of bytes from a stream, each at most a fixed size, with one reused buffer:
/// the serve mode's framing on both ends of the pipe (JSON never holds a raw newline, so one document is one line).
/// </summary>
public sealed class LineReader(Stream stream, int maxLineBytes)
{
    private byte[] buffer = new byte[Math.Min(64 * 1024, maxLineBytes + 1)];
    private int start;
    private int end;
    private bool eof;

    /// <summary>The next line without its newline (valid until the next call), or null at the end of the stream.</summary>
    public async ValueTask<ReadOnlyMemory<byte>?> ReadLineAsync(CancellationToken cancellationToken)
    {
        var scanned = 0;
        while (true)
        {
            var newline = buffer.AsSpan(start + scanned, end - start - scanned).IndexOf((byte)'\n');
            if (newline >= 0)
            {
                var line = buffer.AsMemory(start, scanned + newline);
                start += scanned + newline + 1;
                return TrimCarriageReturn(line);
            }

            scanned = end - start;
            if (scanned > maxLineBytes)
            {
                throw new LineTooLongException(maxLineBytes);
            }

            if (eof)
            {
                if (scanned == 0)
                {
                    return null;
                }

                var last = buffer.AsMemory(start, scanned);
                start = end;
                return TrimCarriageReturn(last);
            }

            MakeRoom();
            var read = await stream.ReadAsync(buffer.AsMemory(end), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                eof = true;
            }

            end += read;
        }
    }

    private void MakeRoom()
    {
        if (start > 0)
        {
            Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
            end -= start;
            start = 0;
        }

        if (end == buffer.Length)
        {
            Array.Resize(ref buffer, (int)Math.Min((long)buffer.Length * 2, maxLineBytes + 1L));
        }
    }

    private static ReadOnlyMemory<byte> TrimCarriageReturn(ReadOnlyMemory<byte> line) =>
        line.Length > 0 && line.Span[^1] == (byte)'\r' ? line[..^1] : line;
}
