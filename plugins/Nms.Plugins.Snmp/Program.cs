using Nms.Plugins.Sdk;
using Nms.Plugins.Snmp;

return await PluginHost.MainAsync(args, new SnmpHandler(), new PluginHostOptions("snmp", MaxConcurrency: 256)).ConfigureAwait(false);
