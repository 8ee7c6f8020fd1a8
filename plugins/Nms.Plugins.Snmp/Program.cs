using Nms.Plugins.Sdk;
using Nms.Plugins.Snmp;

// Bounded so one shared agent (or a bursty uplink) is not flooded past its socket buffer.
return await PluginHost.MainAsync(args, new SnmpHandler(), new PluginHostOptions("snmp", MaxConcurrency: 128)).ConfigureAwait(false);
