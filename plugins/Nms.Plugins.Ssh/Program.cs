using Nms.Plugins.Sdk;
using Nms.Plugins.Ssh;

// SSH handshakes are CPU-bound key exchanges: a smaller fan-out than SNMP keeps two cores responsive.
return await PluginHost.MainAsync(args, new SshHandler(), new PluginHostOptions("ssh", MaxConcurrency: 32)).ConfigureAwait(false);
