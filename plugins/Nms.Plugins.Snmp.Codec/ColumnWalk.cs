namespace Nms.Plugins.Snmp.Codec;

/// <summary>
/// The state of a multi-column walk: where each column is, which have left their subtree, the rows so far.
/// Each response holds the next rows of the active columns, interleaved in the order they were asked.
/// </summary>
internal sealed class ColumnWalk
{
    private readonly IReadOnlyList<ObjectIdentifier> _columns;
    private readonly ObjectIdentifier[] _last;
    private readonly List<VarBind>[] _rows;
    private readonly int _maxRows;
    private int[] _active;
    private int _total;

    public ColumnWalk(IReadOnlyList<ObjectIdentifier> columns, int maxRows)
    {
        _columns = columns;
        _maxRows = maxRows;
        _last = new ObjectIdentifier[columns.Count];
        _rows = new List<VarBind>[columns.Count];
        _active = new int[columns.Count];
        for (var i = 0; i < columns.Count; i++)
        {
            _last[i] = columns[i];
            _rows[i] = [];
            _active[i] = i;
        }
    }

    public int ActiveCount => _active.Length;

    public IReadOnlyList<IReadOnlyList<VarBind>> Rows => _rows;

    /// <summary>Where each active column goes on from, in the order its rows will come back.</summary>
    public ObjectIdentifier[] From()
    {
        var from = new ObjectIdentifier[_active.Length];
        CopyFrom(from, 0);
        return from;
    }

    public void CopyFrom(ObjectIdentifier[] destination, int offset)
    {
        for (var i = 0; i < _active.Length; i++)
        {
            destination[offset + i] = _last[_active[i]];
        }
    }

    /// <summary>Takes the rows of <paramref name="response"/> from <paramref name="offset"/> on (after any non-repeaters).</summary>
    public void Accept(IReadOnlyList<VarBind> response, int offset)
    {
        if (response.Count <= offset)
        {
            throw new SnmpException("agent answered GETBULK with no variables");
        }

        var ended = new bool[_active.Length];
        var endedCount = 0;
        for (var k = offset; k < response.Count; k++)
        {
            var slot = (k - offset) % _active.Length;
            if (ended[slot])
            {
                continue;
            }

            var column = _active[slot];
            var vb = response[k];
            var root = _columns[column];
            if (vb.Value.IsException || !vb.Oid.StartsWith(root) || vb.Oid.Length == root.Length)
            {
                ended[slot] = true;
                endedCount++;
                continue;
            }

            if (vb.Oid <= _last[column])
            {
                throw new SnmpException($"agent returned {vb.Oid} after {_last[column]}: OIDs not increasing");
            }

            _rows[column].Add(vb);
            _last[column] = vb.Oid;
            if (++_total > _maxRows)
            {
                throw new SnmpException($"walk exceeded {_maxRows} rows");
            }
        }

        if (endedCount > 0)
        {
            Drop(ended);
        }
    }

    /// <summary>SNMPv1: noSuchName named the active column at <paramref name="slot"/>, which ran off the MIB.</summary>
    public void EndActive(int slot)
    {
        var ended = new bool[_active.Length];
        ended[slot] = true;
        Drop(ended);
    }

    private void Drop(bool[] ended)
    {
        var kept = new List<int>(_active.Length);
        for (var i = 0; i < _active.Length; i++)
        {
            if (!ended[i])
            {
                kept.Add(_active[i]);
            }
        }

        _active = [.. kept];
    }
}
