using Nms.Plugins.Snmp.Codec;

namespace Nms.Plugins.Snmp;

internal static class Oids
{
    public static readonly ObjectIdentifier SysDescr = ObjectIdentifier.Parse("1.3.6.1.2.1.1.1.0");
    public static readonly ObjectIdentifier SysObjectId = ObjectIdentifier.Parse("1.3.6.1.2.1.1.2.0");
    public static readonly ObjectIdentifier SysUpTime = ObjectIdentifier.Parse("1.3.6.1.2.1.1.3.0");
    public static readonly ObjectIdentifier SysName = ObjectIdentifier.Parse("1.3.6.1.2.1.1.5.0");

    // IF-MIB
    public static readonly ObjectIdentifier IfOperStatus = ObjectIdentifier.Parse("1.3.6.1.2.1.2.2.1.8");
    public static readonly ObjectIdentifier IfInDiscards = ObjectIdentifier.Parse("1.3.6.1.2.1.2.2.1.13");
    public static readonly ObjectIdentifier IfInErrors = ObjectIdentifier.Parse("1.3.6.1.2.1.2.2.1.14");
    public static readonly ObjectIdentifier IfOutDiscards = ObjectIdentifier.Parse("1.3.6.1.2.1.2.2.1.19");
    public static readonly ObjectIdentifier IfOutErrors = ObjectIdentifier.Parse("1.3.6.1.2.1.2.2.1.20");
    public static readonly ObjectIdentifier IfName = ObjectIdentifier.Parse("1.3.6.1.2.1.31.1.1.1.1");
    public static readonly ObjectIdentifier IfHcInOctets = ObjectIdentifier.Parse("1.3.6.1.2.1.31.1.1.1.6");
    public static readonly ObjectIdentifier IfHcOutOctets = ObjectIdentifier.Parse("1.3.6.1.2.1.31.1.1.1.10");

    // HOST-RESOURCES-MIB
    public static readonly ObjectIdentifier HrProcessorLoad = ObjectIdentifier.Parse("1.3.6.1.2.1.25.3.3.1.2");
    public static readonly ObjectIdentifier HrStorageDescr = ObjectIdentifier.Parse("1.3.6.1.2.1.25.2.3.1.3");
    public static readonly ObjectIdentifier HrStorageAllocationUnits = ObjectIdentifier.Parse("1.3.6.1.2.1.25.2.3.1.4");
    public static readonly ObjectIdentifier HrStorageSize = ObjectIdentifier.Parse("1.3.6.1.2.1.25.2.3.1.5");
    public static readonly ObjectIdentifier HrStorageUsed = ObjectIdentifier.Parse("1.3.6.1.2.1.25.2.3.1.6");

    /// <summary>The columns one poll walks, in one multi-column GETBULK walk.</summary>
    public static readonly ObjectIdentifier[] PollColumns =
    [
        IfName, IfOperStatus, IfHcInOctets, IfHcOutOctets, IfInErrors, IfOutErrors, IfInDiscards, IfOutDiscards,
        HrProcessorLoad, HrStorageDescr, HrStorageAllocationUnits, HrStorageSize, HrStorageUsed,
    ];
}
