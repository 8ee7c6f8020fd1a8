using System.Buffers;

namespace Nms.Core.Buffers;

/// <summary>
/// A growable byte buffer rented from <see cref="ArrayPool{T}.Shared"/> that can be cut back; returned to the pool on
/// dispose. For bytes built on a hot path and then copied out or hashed, so nothing but the copy is allocated.
/// </summary>
internal sealed class PooledByteBuffer(int initialCapacity) : IBufferWriter<byte>, IDisposable
{
    private byte[] array = ArrayPool<byte>.Shared.Rent(initialCapacity);

    public int WrittenCount { get; private set; }

    public ReadOnlySpan<byte> WrittenSpan => array.AsSpan(0, WrittenCount);

    public void Truncate(int length) => WrittenCount = length;

    public void Write(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(GetSpan(bytes.Length));
        Advance(bytes.Length);
    }

    public void Advance(int count) => WrittenCount += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return array.AsMemory(WrittenCount);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return array.AsSpan(WrittenCount);
    }

    public void Dispose() => ArrayPool<byte>.Shared.Return(array);

    private void Ensure(int sizeHint)
    {
        var needed = WrittenCount + Math.Max(sizeHint, 1);
        if (needed <= array.Length)
        {
            return;
        }

        var larger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, array.Length * 2));
        WrittenSpan.CopyTo(larger);
        ArrayPool<byte>.Shared.Return(array);
        array = larger;
    }
}
