using System.Text;
using System.Text.Json;
using Nms.Core.Plugins;
using Nms.Plugins.Sdk;

namespace Nms.Tests.Polling;

/// <summary>The app's reader of plugin answers reads every line as the contract's lenient serializer does.</summary>
public sealed class PluginResponseReaderTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 3, 6, 0, 0, TimeSpan.FromHours(1));

    /// <summary>What the serializer reads, as comparable text (records compare dictionaries by reference).</summary>
    private static string Canonical(PluginResponse? response) => JsonSerializer.Serialize(response, PluginContract.Json);

    private static void AssertReadsAsSerializer(string line)
    {
        var bytes = Encoding.UTF8.GetBytes(line);
        var expected = JsonSerializer.Deserialize<PluginResponse>(bytes, PluginContract.Json);
        var reader = new PluginResponseReader();
        Assert.Equal(Canonical(expected), Canonical(reader.Read(bytes)));
        // A second line through the same reader (cached strings and times) reads the same.
        Assert.Equal(Canonical(expected), Canonical(reader.Read(bytes)));
    }

    public static TheoryData<string> Lines() => new()
    {
        """{"contract_version":1,"batch_id":"b1","results":[{"id":"7","success":true,"metrics":[{"name":"if_in_octets_total","value":12345678901,"labels":{"interface":"eth0","if_index":"2"},"ts":"2026-12-03T06:00:00+01:00","kind":"counter","counter_bits":64},{"name":"if_oper_status","value":1,"labels":{"interface":"eth0","if_index":"2"},"ts":"2026-12-03T06:00:00+01:00"},{"name":"load_1m","value":0.25}]},{"id":"8","success":false,"error":"timeout"}]}""",
        // Names in other cases, unknown fields (nested too), fields in another order, nulls where allowed.
        """{"Results":[{"ID":"1","Success":true,"extra":{"a":[1,{"b":null}]},"METRICS":[{"Value":2.5e3,"NAME":"x","Labels":null,"ts":null,"counter_bits":null},null]},null],"unknown":true,"Contract_Version":1,"error":null}""",
        """{"contract_version":1,"results":null,"error":"unsupported version","batch_id":"b2"}""",
        """{"contract_version":1,"results":[{"id":"1","success":true,"hostname":"sw1","description":"a \"switch\"","object_id":"1.3.6.1.4.1.9","credential_id":42,"host_key":"ssh-ed25519 AAAA"}]}""",
        // Escaped strings, non-ASCII, repeated label keys (the last wins), labels shared and then not.
        """{"results":[{"id":"1","success":true,"metrics":[{"name":"m\u00e9tric","value":1,"labels":{"k":"a","k":"b","\u006b2":"\"q\""}},{"name":"métric","value":2,"labels":{"k":"b","k2":"\"q\""}},{"name":"m","value":3,"labels":{"k":"c"}}]}]}""",
        // Shapes the fast path leaves to the serializer: a number as a string, an escaped property name, an empty object.
        """{"results":[{"id":"1","success":true,"metrics":[{"name":"a","value":"42"}]}]}""",
        """{"res\u0075lts":[{"id":"1","success":true}]}""",
        """{}""",
        """null""",
    };

    /// <summary>
    /// The reader names each contract field itself and skips names it does not know, so a field added to the contract
    /// would be dropped silently: this fails first, naming the type whose fields changed.
    /// </summary>
    [Theory]
    [InlineData(typeof(PluginResponse), "batch_id,contract_version,error,results")]
    [InlineData(typeof(PluginResult), "credential_id,description,error,host_key,hostname,id,metrics,object_id,success")]
    [InlineData(typeof(PluginMetric), "counter_bits,kind,labels,name,ts,value")]
    public void The_reader_knows_every_field_of_the_contract(Type type, string fieldsTheReaderReads)
    {
        var fields = ContractJson.Default.GetTypeInfo(type)!.Properties.Select(p => p.Name).Order(StringComparer.Ordinal);

        Assert.Equal(fieldsTheReaderReads, string.Join(',', fields));
    }

    [Theory]
    [MemberData(nameof(Lines))]
    public void Reads_each_line_as_the_serializer_does(string line) => AssertReadsAsSerializer(line);

    [Theory]
    [InlineData("""{"results":[{"id":"1","success":true""")]
    [InlineData("""{"results":[]} trailing""")]
    [InlineData("""{"results":[{"id":"1","success":"yes"}]}""")]
    [InlineData("""{"results":[{"id":"1","success":true,"metrics":[{"name":"a","value":null}]}]}""")]
    [InlineData("""not json""")]
    public void Rejects_what_the_serializer_rejects(string line)
    {
        var bytes = Encoding.UTF8.GetBytes(line);
        Assert.ThrowsAny<JsonException>(() => JsonSerializer.Deserialize<PluginResponse>(bytes, PluginContract.Json));
        Assert.ThrowsAny<JsonException>(() => new PluginResponseReader().Read(bytes));
    }

    [Fact]
    public void Rejects_invalid_UTF8_as_the_serializer_does()
    {
        byte[] line = [.. """{"results":[{"id":"1","success":true,"metrics":[{"name":"a"""u8, 0xC3, 0x28, .. "\",\"value\":1}]}]}"u8];
        Assert.ThrowsAny<JsonException>(() => JsonSerializer.Deserialize<PluginResponse>(line, PluginContract.Json));
        Assert.ThrowsAny<JsonException>(() => new PluginResponseReader().Read(line));
    }

    [Fact]
    public void A_plugins_own_answer_reads_with_names_and_equal_labels_shared()
    {
        var labels = new Dictionary<string, string> { ["interface"] = "eth0", ["if_index"] = "2" };
        var response = new PluginResponse(1, [
            new PluginResult("1", true, Metrics: [new PluginMetric("if_in_octets_total", 1, labels, At, "counter", 64), new PluginMetric("if_out_octets_total", 2, labels, At, "counter", 32)]),
            new PluginResult("2", true, Metrics: [new PluginMetric("if_in_octets_total", 3, new Dictionary<string, string>(labels), At)]),
        ], "batch");
        var line = JsonSerializer.SerializeToUtf8Bytes(response, ContractJson.Default.PluginResponse);
        var reader = new PluginResponseReader();

        var read = reader.Read(line)!;

        Assert.Equal(Canonical(response), Canonical(read));
        var first = read.Results[0].Metrics!;
        Assert.Same(first[0].Labels, first[1].Labels);
        Assert.Same(first[0].Name, read.Results[1].Metrics![0].Name);
        Assert.Equal(At, first[1].Ts);
    }
}
