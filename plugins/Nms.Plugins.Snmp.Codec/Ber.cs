using System.Buffers.Binary;

namespace Nms.Plugins.Snmp.Codec;

public static class BerTag
{
    public const byte Integer = 0x02;
    public const byte OctetString = 0x04;
    public const byte Null = 0x05;
    public const byte ObjectIdentifier = 0x06;
    public const byte Sequence = 0x30;
}

/// <summary>Forward BER writer; a constructed value's header is inserted when it is closed, so lengths are always minimal.</summary>
public sealed class BerWriter
{
    private byte[] _buffer;
    private int _length;

    public BerWriter(int capacity = 512) => _buffer = new byte[Math.Max(16, capacity)];

    public int Length => _length;

    public int Begin() => _length;

    public void End(int mark, byte tag)
    {
        var contentLength = _length - mark;
        Span<byte> header = stackalloc byte[6];
        var headerLength = WriteHeader(header, tag, contentLength);
        Ensure(headerLength);
        Array.Copy(_buffer, mark, _buffer, mark + headerLength, contentLength);
        header[..headerLength].CopyTo(_buffer.AsSpan(mark));
        _length += headerLength;
    }

    public void WriteInteger(long value, byte tag = BerTag.Integer)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(bytes, value);
        var start = 0;
        // Drop leading bytes that only repeat the sign bit of the next one.
        while (start < 7 && ((bytes[start] == 0x00 && (bytes[start + 1] & 0x80) == 0) || (bytes[start] == 0xFF && (bytes[start + 1] & 0x80) != 0)))
        {
            start++;
        }

        WritePrimitive(tag, bytes[start..]);
    }

    public void WriteUnsigned(ulong value, byte tag)
    {
        Span<byte> bytes = stackalloc byte[9];
        BinaryPrimitives.WriteUInt64BigEndian(bytes[1..], value);
        var start = 0;
        while (start < 8 && bytes[start] == 0x00 && (bytes[start + 1] & 0x80) == 0)
        {
            start++;
        }

        WritePrimitive(tag, bytes[start..]);
    }

    public void WriteOctetString(ReadOnlySpan<byte> value, byte tag = BerTag.OctetString) => WritePrimitive(tag, value);

    public void WriteNull(byte tag = BerTag.Null) => WritePrimitive(tag, []);

    public void WriteOid(ObjectIdentifier oid, byte tag = BerTag.ObjectIdentifier)
    {
        ArgumentNullException.ThrowIfNull(oid);
        Span<byte> content = stackalloc byte[(oid.Length * 5) + 5];
        var n = WriteSubIdentifier(content, (oid[0] * 40) + oid[1]);
        for (var i = 2; i < oid.Length; i++)
        {
            n += WriteSubIdentifier(content[n..], oid[i]);
        }

        WritePrimitive(tag, content[..n]);
    }

    public void WriteRaw(ReadOnlySpan<byte> encoded)
    {
        Ensure(encoded.Length);
        encoded.CopyTo(_buffer.AsSpan(_length));
        _length += encoded.Length;
    }

    public byte[] ToArray() => _buffer.AsSpan(0, _length).ToArray();

    public static int TlvLength(int contentLength) => contentLength + HeaderLength(contentLength);

    public static int HeaderLength(int contentLength) => contentLength switch
    {
        < 0x80 => 2,
        <= 0xFF => 3,
        <= 0xFFFF => 4,
        <= 0xFFFFFF => 5,
        _ => 6,
    };

    private void WritePrimitive(byte tag, ReadOnlySpan<byte> content)
    {
        Span<byte> header = stackalloc byte[6];
        var headerLength = WriteHeader(header, tag, content.Length);
        Ensure(headerLength + content.Length);
        header[..headerLength].CopyTo(_buffer.AsSpan(_length));
        content.CopyTo(_buffer.AsSpan(_length + headerLength));
        _length += headerLength + content.Length;
    }

    private static int WriteHeader(Span<byte> header, byte tag, int length)
    {
        header[0] = tag;
        if (length < 0x80)
        {
            header[1] = (byte)length;
            return 2;
        }

        var octets = HeaderLength(length) - 2;
        header[1] = (byte)(0x80 | octets);
        for (var i = 0; i < octets; i++)
        {
            header[2 + i] = (byte)(length >> (8 * (octets - 1 - i)));
        }

        return 2 + octets;
    }

    private static int WriteSubIdentifier(Span<byte> destination, uint value)
    {
        var groups = 1;
        for (var v = value >> 7; v != 0; v >>= 7)
        {
            groups++;
        }

        for (var i = 0; i < groups; i++)
        {
            var shift = 7 * (groups - 1 - i);
            destination[i] = (byte)(((value >> shift) & 0x7F) | (i < groups - 1 ? 0x80u : 0u));
        }

        return groups;
    }

    private void Ensure(int extra)
    {
        if (_length + extra > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + extra));
        }
    }
}

/// <summary>
/// Bounds-checked BER reader over an untrusted packet. Every failure is a <see cref="SnmpFormatException"/>;
/// offsets are absolute in the outermost buffer so USM can find the authentication parameters.
/// </summary>
public ref struct BerReader
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly int _base;
    private int _position;

    public BerReader(ReadOnlySpan<byte> data, int baseOffset = 0)
    {
        _data = data;
        _base = baseOffset;
        _position = 0;
    }

    public readonly bool HasMore => _position < _data.Length;

    public readonly int AbsolutePosition => _base + _position;

    public readonly byte PeekTag()
    {
        if (_position >= _data.Length)
        {
            throw new SnmpFormatException("truncated: expected a tag");
        }

        return _data[_position];
    }

    public ReadOnlySpan<byte> ReadTlv(out byte tag, out int contentOffset)
    {
        tag = PeekTag();
        if ((tag & 0x1F) == 0x1F)
        {
            throw new SnmpFormatException("multi-byte tags are not used by SNMP");
        }

        var p = _position + 1;
        if (p >= _data.Length)
        {
            throw new SnmpFormatException("truncated: expected a length");
        }

        int length = _data[p++];
        if (length == 0x80)
        {
            throw new SnmpFormatException("indefinite lengths are not allowed");
        }

        if (length > 0x80)
        {
            var octets = length & 0x7F;
            if (octets > 4 || p + octets > _data.Length)
            {
                throw new SnmpFormatException("bad or truncated length");
            }

            long value = 0;
            for (var i = 0; i < octets; i++)
            {
                value = (value << 8) | _data[p++];
            }

            if (value > int.MaxValue)
            {
                throw new SnmpFormatException("length too large");
            }

            length = (int)value;
        }

        if (length > _data.Length - p)
        {
            throw new SnmpFormatException($"truncated: length {length} exceeds the {_data.Length - p} bytes left");
        }

        contentOffset = _base + p;
        _position = p + length;
        return _data.Slice(p, length);
    }

    public ReadOnlySpan<byte> ReadExpected(byte expectedTag, out int contentOffset)
    {
        var content = ReadTlv(out var tag, out contentOffset);
        if (tag != expectedTag)
        {
            throw new SnmpFormatException($"expected tag 0x{expectedTag:X2}, found 0x{tag:X2}");
        }

        return content;
    }

    public BerReader ReadConstructed(byte expectedTag)
    {
        var content = ReadExpected(expectedTag, out var offset);
        return new BerReader(content, offset);
    }

    public long ReadInteger(byte expectedTag = BerTag.Integer) => DecodeInteger(ReadExpected(expectedTag, out _));

    public int ReadInt32()
    {
        var value = ReadInteger();
        if (value is < int.MinValue or > int.MaxValue)
        {
            throw new SnmpFormatException("integer out of 32-bit range");
        }

        return (int)value;
    }

    public byte[] ReadOctetString() => ReadExpected(BerTag.OctetString, out _).ToArray();

    public ReadOnlySpan<byte> ReadOctetStringSpan(out int contentOffset) => ReadExpected(BerTag.OctetString, out contentOffset);

    public ObjectIdentifier ReadOid() => DecodeOid(ReadExpected(BerTag.ObjectIdentifier, out _));

    public readonly void ExpectEnd()
    {
        if (HasMore)
        {
            throw new SnmpFormatException("unexpected trailing bytes");
        }
    }

    public static long DecodeInteger(ReadOnlySpan<byte> content)
    {
        if (content.Length is 0 or > 8)
        {
            throw new SnmpFormatException($"integer of {content.Length} bytes");
        }

        long value = (sbyte)content[0];
        for (var i = 1; i < content.Length; i++)
        {
            value = (value << 8) | content[i];
        }

        return value;
    }

    public static ulong DecodeUnsigned(ReadOnlySpan<byte> content, int maxBits)
    {
        // Tolerate a leading zero octet and agents that forget it for values with the top bit set.
        if (content.Length == 0 || content.Length > (maxBits / 8) + 1 || (content.Length == (maxBits / 8) + 1 && content[0] != 0))
        {
            throw new SnmpFormatException($"unsigned value of {content.Length} bytes");
        }

        ulong value = 0;
        foreach (var b in content)
        {
            value = (value << 8) | b;
        }

        return value;
    }

    public static ObjectIdentifier DecodeOid(ReadOnlySpan<byte> content)
    {
        if (content.Length == 0)
        {
            throw new SnmpFormatException("empty object identifier");
        }

        var components = new List<uint>(16);
        var i = 0;
        while (i < content.Length)
        {
            if (content[i] == 0x80)
            {
                throw new SnmpFormatException("non-minimal subidentifier");
            }

            ulong value = 0;
            byte b;
            do
            {
                if (i >= content.Length)
                {
                    throw new SnmpFormatException("truncated subidentifier");
                }

                b = content[i++];
                value = (value << 7) | (uint)(b & 0x7F);
                if (value > uint.MaxValue)
                {
                    throw new SnmpFormatException("subidentifier exceeds 32 bits");
                }
            }
            while ((b & 0x80) != 0);

            if (components.Count == 0)
            {
                var first = value < 40 ? 0u : value < 80 ? 1u : 2u;
                components.Add(first);
                components.Add((uint)(value - (first * 40)));
            }
            else
            {
                components.Add((uint)value);
            }

            if (components.Count > ObjectIdentifier.MaxComponents)
            {
                throw new SnmpFormatException("object identifier too long");
            }
        }

        return new ObjectIdentifier([.. components]);
    }
}
