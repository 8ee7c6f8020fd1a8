using System.Text.Json.Nodes;
using Nms.Core.Api;
using Nms.Functions.OpenApi;
using static Nms.Functions.OpenApi.OpenApiBuilder;

namespace Nms.Functions.Metrics;

/// <summary>The metrics routes in /api/openapi.json.</summary>
internal sealed class MetricsOpenApi : IOpenApiPaths
{
    public void AddTo(OpenApiBuilder api)
    {
        const string tag = "metrics";
        var labels = new JsonObject { ["type"] = "object", ["additionalProperties"] = String(), ["description"] = "The series' labels, e.g. {\"if_index\": \"2\"}" };
        api.Schema("MetricPoint", Object(
            ("ts", DateTime(), true),
            ("value", Number(), false),
            ("avg", Number(), false),
            ("min", Number(), false),
            ("max", Number(), false),
            ("count", Integer(1), false)));
        api.Schema("MetricSeries", Object(
            ("name", String(), true),
            ("labels", labels.DeepClone().AsObject(), true),
            ("kind", String("gauge or counter"), true),
            ("points", Array(Ref("MetricPoint")), true)));
        api.Schema("SeriesInfo", Object(
            ("name", String(), true),
            ("labels", labels.DeepClone().AsObject(), true),
            ("kind", String("gauge or counter"), true),
            ("counter_bits", Integer(32, 64, "32 or 64, counters only"), false),
            ("first_seen_at", DateTime(), true),
            ("last_seen_at", DateTime(), true)));
        api.Schema("SeriesList", Object(
            ("device_id", Id(), true),
            ("truncated", Boolean(), true),
            ("series", Array(Ref("SeriesInfo")), true)));
        api.Schema("MetricSeriesList", Object(
            ("device_id", Id(), true),
            ("from", DateTime(), true),
            ("to", DateTime(), true),
            ("step_seconds", Integer(1, description: "Present when the points are buckets instead of raw values"), false),
            ("fn", String("raw, buckets (avg/min/max/count: a step without fn), avg, min, max, last, rate or increase"), true),
            ("tier", String("raw (hot rows and compacted blocks), 5m or 1h (rollups): chosen from step"), true),
            ("truncated", Boolean("True when Nms:Metrics:MaxRowsPerQuery cut the answer: narrow the range or add a step"), true),
            ("series", Array(Ref("MetricSeries")), true)));
        api.Schema("LatestMetric", Object(
            ("name", String(), true),
            ("labels", labels.DeepClone().AsObject(), true),
            ("ts", DateTime(), true),
            ("value", Number(), true)));
        api.Schema("LatestMetrics", Object(
            ("device_id", Id(), true),
            ("since", DateTime(), true),
            ("truncated", Boolean(), true),
            ("metrics", Array(Ref("LatestMetric")), true)));

        api.Operation("get", "/devices/{id}/metrics", "GetDeviceMetrics", "A device's metric series in a time range, raw or bucketed per step", Role.Reader, tag)
            .Query("name", String(), "Only this metric name")
            .Query("from", DateTime(), "Start (inclusive), ISO 8601; default: one hour before 'to'")
            .Query("to", DateTime(), "End (exclusive), ISO 8601; default: now")
            .Query("labels[name]", String(), "A label the series must have with this value, e.g. labels[interface]=eth0; several allowed; an unknown label matches no series")
            .Query("step", String(), "Bucket size: seconds or a number with s, m, h or d (e.g. 60, 5m). Whole hours read 1-hour rollups, whole 5 minutes 5-minute rollups. At most Nms:Metrics:MaxPointsPerSeries (11,000) buckets, else a 400 naming step")
            .Query("fn", String(), "raw | avg | min | max | last | rate | increase. rate/increase: per bucket, the increase over the intervals ending in it (counter resets and 32-bit wraps per nms_counter_delta; plain difference for gauges), rate = increase / their seconds; no extrapolation. Without fn: raw, or avg/min/max/count with a step; with fn and no step: 60 s")
            .Response(200, "The series, labels kept apart, bounded by Nms:Metrics:MaxRowsPerQuery rows", Ref("MetricSeriesList"))
            .Errors(400, 404);
        api.Operation("get", "/devices/{id}/series", "GetDeviceSeries", "A device's series: name, labels, kind, first and last seen", Role.Reader, tag)
            .Response(200, "Every series of the device, bounded by Nms:Metrics:MaxRowsPerQuery", Ref("SeriesList"))
            .Errors(404);
        api.Operation("get", "/devices/{id}/metrics/latest", "GetDeviceLatestMetrics", "The newest value of each of a device's series", Role.Reader, tag)
            .Query("since", DateTime(), "Look back to this time, ISO 8601; default: 24 hours ago")
            .Response(200, "One entry per series (name + labels)", Ref("LatestMetrics"))
            .Errors(400, 404);
    }
}
