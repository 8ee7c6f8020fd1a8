using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Nms.Core.Configuration;

namespace Nms.Core.Alerting;

/// <summary>One alert in a notification. <see cref="Transition"/> is firing, resolved or repeat.</summary>
public sealed record NotifiedAlert(
    long AlertId,
    string Transition,
    string State,
    long RuleId,
    string Rule,
    string Kind,
    string Severity,
    long DeviceId,
    string DeviceIp,
    string? DeviceHostname,
    IReadOnlyDictionary<string, string> Labels,
    double? Value,
    string? Reason,
    DateTimeOffset? FiredAt,
    DateTimeOffset? ResolvedAt);

/// <summary>
/// The webhook body (schema version 1, documented in docs/alerting.md): one per channel per
/// evaluation, with every alert of that group. Slack, Teams and email render the same content.
/// </summary>
public sealed record NotificationPayload(int Version, string DeliveryId, string Channel, DateTimeOffset SentAt, IReadOnlyList<NotifiedAlert> Alerts, int Omitted)
{
    public byte[] WebhookBody() => JsonSerializer.SerializeToUtf8Bytes(this, NmsJson.Api);

    public string Subject()
    {
        var firing = Alerts.Count(a => a.Transition != AlertStates.Resolved);
        var resolved = Alerts.Count - firing;
        return $"[NMS] {firing} firing, {resolved} resolved" + (Alerts.Count == 1 ? $": {Alerts[0].Rule} on {DeviceName(Alerts[0])}" : "");
    }

    /// <summary>One line per alert, plain text (device names come from the network: never markup).</summary>
    public IEnumerable<string> Lines() => Alerts.Select(a =>
        $"{(a.Transition == AlertStates.Resolved ? "RESOLVED" : "FIRING")} [{a.Severity}] {a.Rule} on {DeviceName(a)}{LabelText(a)}: {a.Reason}")
        .Concat(Omitted > 0 ? [$"... and {Omitted} more"] : []);

    public string Text() => Subject() + "\n" + string.Join('\n', Lines());

    /// <summary>Slack incoming webhook: mrkdwn text with &amp;, &lt; and &gt; escaped (Slack's only control characters).</summary>
    public byte[] SlackBody() => JsonSerializer.SerializeToUtf8Bytes(new JsonObject { ["text"] = SlackEscape(Text()) });

    /// <summary>Teams Workflows webhook: a message with one Adaptive Card (1.4) attachment; TextBlocks are plain text.</summary>
    public byte[] TeamsBody()
    {
        var body = new JsonArray { new JsonObject { ["type"] = "TextBlock", ["text"] = Subject(), ["weight"] = "Bolder", ["size"] = "Medium", ["wrap"] = true } };
        foreach (var line in Lines())
        {
            body.Add(new JsonObject { ["type"] = "TextBlock", ["text"] = line, ["wrap"] = true });
        }

        var message = new JsonObject
        {
            ["type"] = "message",
            ["attachments"] = new JsonArray
            {
                new JsonObject
                {
                    ["contentType"] = "application/vnd.microsoft.card.adaptive",
                    ["contentUrl"] = null,
                    ["content"] = new JsonObject
                    {
                        ["$schema"] = "http://adaptivecards.io/schemas/adaptive-card.json",
                        ["type"] = "AdaptiveCard",
                        ["version"] = "1.4",
                        ["body"] = body,
                    },
                },
            },
        };
        return Encoding.UTF8.GetBytes(message.ToJsonString());
    }

    private static string DeviceName(NotifiedAlert a) => a.DeviceHostname is { Length: > 0 } host ? $"{host} ({a.DeviceIp})" : a.DeviceIp;

    private static string LabelText(NotifiedAlert a) =>
        a.Labels.Count == 0 ? "" : " {" + string.Join(", ", a.Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => string.Create(CultureInfo.InvariantCulture, $"{l.Key}={l.Value}"))) + "}";

    private static string SlackEscape(string text) =>
        text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);
}
