using Nms.Plugins.Snmp.Codec;

namespace Nms.Plugins.Snmp;

internal static class Oids
{
    public static readonly ObjectIdentifier SysDescr = ObjectIdentifier.Parse("1.3.6.1.2.1.1.1.0");
    public static readonly ObjectIdentifier SysObjectId = ObjectIdentifier.Parse("1.3.6.1.2.1.1.2.0");
    public static readonly ObjectIdentifier SysUpTime = ObjectIdentifier.Parse("1.3.6.1.2.1.1.3.0");
    public static readonly ObjectIdentifier SysName = ObjectIdentifier.Parse("1.3.6.1.2.1.1.5.0");

    // IF-MIB ifTable
    public static readonly ObjectIdentifier IfSpeed = ObjectIdentifier.Parse("1.3.6.1.2.1.2.2.1.5");
    public static readonly ObjectIdentifier IfAdminStatus = ObjectIdentifier.Parse("1.3.6.1.2.1.2.2.1.7");
    public static readonly ObjectIdentifier IfOperStatus = ObjectIdentifier.Parse("1.3.6.1.2.1.2.2.1.8");
    public static readonly ObjectIdentifier IfInOctets = ObjectIdentifier.Parse("1.3.6.1.2.1.2.2.1.10");
    public static readonly ObjectIdentifier IfInUcastPkts = ObjectIdentifier.Parse("1.3.6.1.2.1.2.2.1.11");
    public static readonly ObjectIdentifier IfInDiscards = ObjectIdentifier.Parse("1.3.6.1.2.1.2.2.1.13");
    public static readonly ObjectIdentifier IfInErrors = ObjectIdentifier.Parse("1.3.6.1.2.1.2.2.1.14");
    public static readonly ObjectIdentifier IfOutOctets = ObjectIdentifier.Parse("1.3.6.1.2.1.2.2.1.16");
    public static readonly ObjectIdentifier IfOutUcastPkts = ObjectIdentifier.Parse("1.3.6.1.2.1.2.2.1.17");
    public static readonly ObjectIdentifier IfOutDiscards = ObjectIdentifier.Parse("1.3.6.1.2.1.2.2.1.19");
    public static readonly ObjectIdentifier IfOutErrors = ObjectIdentifier.Parse("1.3.6.1.2.1.2.2.1.20");

    // IF-MIB ifXTable
    public static readonly ObjectIdentifier IfName = ObjectIdentifier.Parse("1.3.6.1.2.1.31.1.1.1.1");
    public static readonly ObjectIdentifier IfHcInOctets = ObjectIdentifier.Parse("1.3.6.1.2.1.31.1.1.1.6");
    public static readonly ObjectIdentifier IfHcInUcastPkts = ObjectIdentifier.Parse("1.3.6.1.2.1.31.1.1.1.7");
    public static readonly ObjectIdentifier IfHcOutOctets = ObjectIdentifier.Parse("1.3.6.1.2.1.31.1.1.1.10");
    public static readonly ObjectIdentifier IfHcOutUcastPkts = ObjectIdentifier.Parse("1.3.6.1.2.1.31.1.1.1.11");
    public static readonly ObjectIdentifier IfHighSpeed = ObjectIdentifier.Parse("1.3.6.1.2.1.31.1.1.1.15");
    public static readonly ObjectIdentifier IfAlias = ObjectIdentifier.Parse("1.3.6.1.2.1.31.1.1.1.18");

    // HOST-RESOURCES-MIB
    public static readonly ObjectIdentifier HrProcessorLoad = ObjectIdentifier.Parse("1.3.6.1.2.1.25.3.3.1.2");
    public static readonly ObjectIdentifier HrStorageDescr = ObjectIdentifier.Parse("1.3.6.1.2.1.25.2.3.1.3");
    public static readonly ObjectIdentifier HrStorageAllocationUnits = ObjectIdentifier.Parse("1.3.6.1.2.1.25.2.3.1.4");
    public static readonly ObjectIdentifier HrStorageSize = ObjectIdentifier.Parse("1.3.6.1.2.1.25.2.3.1.5");
    public static readonly ObjectIdentifier HrStorageUsed = ObjectIdentifier.Parse("1.3.6.1.2.1.25.2.3.1.6");

    // UCD-SNMP-MIB memory (kB) and load (laLoadInt: load × 100)
    public static readonly ObjectIdentifier MemTotalSwap = ObjectIdentifier.Parse("1.3.6.1.4.1.2021.4.3.0");
    public static readonly ObjectIdentifier MemAvailSwap = ObjectIdentifier.Parse("1.3.6.1.4.1.2021.4.4.0");
    public static readonly ObjectIdentifier MemTotalReal = ObjectIdentifier.Parse("1.3.6.1.4.1.2021.4.5.0");
    public static readonly ObjectIdentifier MemAvailReal = ObjectIdentifier.Parse("1.3.6.1.4.1.2021.4.6.0");
    public static readonly ObjectIdentifier MemBuffer = ObjectIdentifier.Parse("1.3.6.1.4.1.2021.4.14.0");
    public static readonly ObjectIdentifier MemCached = ObjectIdentifier.Parse("1.3.6.1.4.1.2021.4.15.0");
    public static readonly ObjectIdentifier LaLoadInt1 = ObjectIdentifier.Parse("1.3.6.1.4.1.2021.10.1.5.1");
    public static readonly ObjectIdentifier LaLoadInt5 = ObjectIdentifier.Parse("1.3.6.1.4.1.2021.10.1.5.2");
    public static readonly ObjectIdentifier LaLoadInt15 = ObjectIdentifier.Parse("1.3.6.1.4.1.2021.10.1.5.3");

    /// <summary>What one poll GETs: sysUpTime, then the UCD scalars (noSuchObject where the agent has no UCD-SNMP-MIB).</summary>
    public static readonly ObjectIdentifier[] PollScalars =
    [
        SysUpTime, MemTotalReal, MemAvailReal, MemBuffer, MemCached, MemTotalSwap, MemAvailSwap, LaLoadInt1, LaLoadInt5, LaLoadInt15,
    ];

    /// <summary>The columns one poll walks, in one multi-column walk; over SNMPv1 the 64-bit ones are left out (v1 has no Counter64).</summary>
    public static readonly ObjectIdentifier[] PollColumns =
    [
        IfName, IfAlias, IfAdminStatus, IfOperStatus, IfSpeed, IfHighSpeed, IfInErrors, IfOutErrors, IfInDiscards, IfOutDiscards,
        IfHcInOctets, IfHcOutOctets, IfHcInUcastPkts, IfHcOutUcastPkts,
        HrProcessorLoad, HrStorageDescr, HrStorageAllocationUnits, HrStorageSize, HrStorageUsed,
    ];

    /// <summary>The 32-bit counters walked where an interface has no 64-bit ones (every SNMPv1 agent, old SNMPv2c ones).</summary>
    public static readonly ObjectIdentifier[] Counter32Columns = [IfInOctets, IfOutOctets, IfInUcastPkts, IfOutUcastPkts];

    public static readonly ObjectIdentifier[] Counter64Columns = [IfHcInOctets, IfHcOutOctets, IfHcInUcastPkts, IfHcOutUcastPkts];

    /// <summary>What a v1 poll walks (declared after the lists it is made of: static fields initialise in order).</summary>
    public static readonly ObjectIdentifier[] PollColumnsV1 = [.. PollColumns.Except(Counter64Columns), .. Counter32Columns];
}
