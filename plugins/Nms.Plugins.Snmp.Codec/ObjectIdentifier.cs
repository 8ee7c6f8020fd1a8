using System.Globalization;
using System.Text;

namespace Nms.Plugins.Snmp.Codec;

public sealed class ObjectIdentifier : IEquatable<ObjectIdentifier>, IComparable<ObjectIdentifier>
{
    public const int MaxComponents = 128;

    private readonly uint[] _components;

    public ObjectIdentifier(params uint[] components)
    {
        ArgumentNullException.ThrowIfNull(components);
        if (components.Length is < 2 or > MaxComponents || components[0] > 2 || (components[0] < 2 && components[1] >= 40))
        {
            throw new ArgumentException("not a valid object identifier", nameof(components));
        }

        _components = components;
    }

    public ReadOnlySpan<uint> Components => _components;

    public int Length => _components.Length;

    public uint this[int index] => _components[index];

    public static ObjectIdentifier Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.TrimStart('.').Split('.');
        var components = new uint[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            components[i] = uint.Parse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture);
        }

        return new ObjectIdentifier(components);
    }

    public ObjectIdentifier Append(params uint[] more)
    {
        ArgumentNullException.ThrowIfNull(more);
        return new ObjectIdentifier([.. _components, .. more]);
    }

    public bool StartsWith(ObjectIdentifier prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        return prefix.Length <= Length && Components[..prefix.Length].SequenceEqual(prefix.Components);
    }

    /// <summary>The components after <paramref name="prefix"/>, e.g. a table row's index.</summary>
    public ReadOnlySpan<uint> Suffix(ObjectIdentifier prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        return StartsWith(prefix) ? Components[prefix.Length..] : [];
    }

    public int CompareTo(ObjectIdentifier? other) => other is null ? 1 : Components.SequenceCompareTo(other.Components);

    public bool Equals(ObjectIdentifier? other) => other is not null && Components.SequenceEqual(other.Components);

    public override bool Equals(object? obj) => obj is ObjectIdentifier other && Equals(other);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var c in _components)
        {
            hash.Add(c);
        }

        return hash.ToHashCode();
    }

    public override string ToString()
    {
        var text = new StringBuilder(_components.Length * 4);
        for (var i = 0; i < _components.Length; i++)
        {
            if (i > 0)
            {
                text.Append('.');
            }

            text.Append(_components[i].ToString(CultureInfo.InvariantCulture));
        }

        return text.ToString();
    }

    public static bool operator ==(ObjectIdentifier? left, ObjectIdentifier? right) => left is null ? right is null : left.Equals(right);

    public static bool operator !=(ObjectIdentifier? left, ObjectIdentifier? right) => !(left == right);

    public static bool operator <(ObjectIdentifier left, ObjectIdentifier right) => left is null ? right is not null : left.CompareTo(right) < 0;

    public static bool operator <=(ObjectIdentifier left, ObjectIdentifier right) => left is null || left.CompareTo(right) <= 0;

    public static bool operator >(ObjectIdentifier left, ObjectIdentifier right) => left is not null && left.CompareTo(right) > 0;

    public static bool operator >=(ObjectIdentifier left, ObjectIdentifier right) => left is null ? right is null : left.CompareTo(right) >= 0;
}
