using System.Net;
using Nms.Plugins.Snmp.Codec;
using Xunit;

namespace Nms.Plugins.Tests;

/// <summary>USM engine discovery and the time window (RFC 3414 3.2, 4) against an agent whose clock we control.</summary>
public sealed class V3SessionTests
{
    private static readonly byte[] EngineId = Convert.FromHexString("80001F8880AABBCCDD00000001");
    private static readonly ObjectIdentifier SysName = ObjectIdentifier.Parse("1.3.6.1.2.1.1.5.0");
    private static readonly UsmCredentials User = new("nms", AuthProtocol.Sha256, "auth-password-1", PrivProtocol.Aes128, "priv-password-1");

    [Fact]
    public async Task Discovery_then_a_not_in_time_window_report_resynchronises_once_and_succeeds()
    {
        using var agent = new ClockedV3Agent(agentTime: 5000, signingPassword: User.AuthPassword!);
        using var session = agent.Session();
        var answer = await session.GetAsync([SysName], CancellationToken.None);
        Assert.Equal("v3-agent", answer[0].Value.AsText());
        Assert.Equal(EngineId, session.EngineId);
        Assert.Equal(["discovery", "notInTimeWindow", "response"], agent.Log);
    }

    [Fact]
    public async Task An_agent_that_stays_out_of_the_time_window_fails_after_one_resynchronisation()
    {
        using var agent = new ClockedV3Agent(agentTime: 5000, signingPassword: User.AuthPassword!, neverInWindow: true);
        using var session = agent.Session();
        var error = await Assert.ThrowsAsync<SnmpException>(() => session.GetAsync([SysName], CancellationToken.None));
        Assert.Contains("not in time window even after resynchronising", error.Message, StringComparison.Ordinal);
        Assert.Equal(["discovery", "notInTimeWindow", "notInTimeWindow"], agent.Log);
    }

    [Fact]
    public async Task A_response_signed_with_another_key_is_not_believed()
    {
        using var agent = new ClockedV3Agent(agentTime: 0, signingPassword: "someone-else-1");
        using var session = agent.Session();
        var error = await Assert.ThrowsAsync<SnmpException>(() => session.GetAsync([SysName], CancellationToken.None));
        Assert.Contains("failed authentication", error.Message, StringComparison.Ordinal);
    }

    private sealed class ClockedV3Agent : IDisposable
    {
        private readonly ScriptedAgent _agent;
        private readonly int _time;
        private readonly UsmKeys _verify;
        private readonly UsmKeys _sign;

        private readonly bool _neverInWindow;

        public ClockedV3Agent(int agentTime, string signingPassword, bool neverInWindow = false)
        {
            _time = agentTime;
            _neverInWindow = neverInWindow;
            _verify = Usm.LocalizeKeys(User.Auth, User.AuthPassword, User.Priv, User.PrivPassword, EngineId);
            _sign = Usm.LocalizeKeys(User.Auth, signingPassword, User.Priv, User.PrivPassword, EngineId);
            _agent = new ScriptedAgent(bytes => [Answer(V3Message.Decode(bytes))]);
        }

        public List<string> Log { get; } = [];

        public SnmpSession Session() =>
            new(new IPEndPoint(IPAddress.Loopback, _agent.Port), User, new SnmpSessionOptions(TimeSpan.FromSeconds(5), 1));

        private byte[] Answer(V3Message request)
        {
            if (request.Usm.EngineId.Length == 0)
            {
                Log.Add("discovery");
                // Discovery reports carry the engine id but, here, a clock far from the real one.
                var report = new Pdu(PduType.Report, request.Scoped!.Pdu.RequestId, 0, 0, [new VarBind(ObjectIdentifier.Parse("1.3.6.1.6.3.15.1.1.4.0"), new SnmpValue(SnmpType.Counter32, Unsigned: 1))]);
                return V3Message.Encode(request.MessageId, 65507, V3Flags.None, new UsmSecurityParameters(EngineId, 1, 0, [], [], []), new ScopedPdu(EngineId, [], report).Encode()).Packet;
            }

            Assert.True(Usm.Verify(_verify, request));
            var plain = Usm.Decrypt(_verify.PrivKey, request.Usm.EngineBoots, request.Usm.EngineTime, request.Usm.PrivParameters, request.EncryptedPdu!);
            var pdu = ScopedPdu.Decode(plain).Pdu;
            if (_neverInWindow || Math.Abs(request.Usm.EngineTime - _time) > 150)
            {
                Log.Add("notInTimeWindow");
                var report = new Pdu(PduType.Report, pdu.RequestId, 0, 0, [new VarBind(ObjectIdentifier.Parse("1.3.6.1.6.3.15.1.1.2.0"), new SnmpValue(SnmpType.Counter32, Unsigned: 1))]);
                return Signed(V3Flags.Auth, new ScopedPdu(EngineId, [], report).Encode(), []);
            }

            Log.Add("response");
            var response = new Pdu(PduType.Response, pdu.RequestId, 0, 0, [new VarBind(SysName, new SnmpValue(SnmpType.OctetString, Bytes: "v3-agent"u8.ToArray()))]);
            var salt = Convert.FromHexString("1122334455667788");
            var wrapper = new BerWriter();
            wrapper.WriteOctetString(Usm.Encrypt(_sign.PrivKey, 1, _time, salt, new ScopedPdu(EngineId, [], response).Encode()));
            return Signed(V3Flags.Auth | V3Flags.Priv, wrapper.ToArray(), salt);

            byte[] Signed(V3Flags flags, byte[] msgData, byte[] privParameters)
            {
                var usm = new UsmSecurityParameters(EngineId, 1, _time, "nms"u8.ToArray(), new byte[Usm.MacLength(User.Auth)], privParameters);
                var (packet, offset) = V3Message.Encode(request.MessageId, 65507, flags, usm, msgData);
                Usm.Sign(_sign, packet, offset);
                return packet;
            }
        }

        public void Dispose() => _agent.Dispose();
    }
}
