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
            ("points", Array(Ref("MetricPoint")), true)));
        api.Schema("MetricSeriesList", Object(
            ("device_id", Id(), true),
            ("from", DateTime(), true),
            ("to", DateTime(), true),
            ("step_seconds", Integer(1, description: "Present when the points are buckets (avg, min, max, count) instead of raw values"), false),
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
            .Query("step", String(), "Bucket size: seconds or a number with s, m, h or d (e.g. 60, 5m); points become avg/min/max/count")
            .Response(200, "The series, labels kept apart, bounded by Nms:Metrics:MaxRowsPerQuery rows", Ref("MetricSeriesList"))
            .Errors(400, 404);
        api.Operation("get", "/devices/{id}/metrics/latest", "GetDeviceLatestMetrics", "The newest value of each of a device's series", Role.Reader, tag)
            .Query("since", DateTime(), "Look back to this time, ISO 8601; default: 24 hours ago")
            .Response(200, "One entry per series (name + labels)", Ref("LatestMetrics"))
            .Errors(400, 404);
    }
}
