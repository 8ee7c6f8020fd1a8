using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Nms.Tests.Infrastructure;

namespace Nms.Tests.Foundation;

public sealed class LocalHostTests
{
    [Fact]
    public async Task Queue_message_reaches_the_queue_triggered_function_as_a_poco()
    {
        var (app, log, queues) = await ProbeApp.StartAsync();
        await using var _ = app;

        await app.SendAsync(queues.Echo, new ProbeMessage("m1", "hello", 42));

        await TestApp.EventuallyAsync(() => Task.FromResult(!log.Received.IsEmpty), "the echo function to receive the message");
        var received = Assert.Single(log.Received);
        Assert.Equal(new ProbeMessage("m1", "hello", 42), received);
        await TestApp.EventuallyAsync(async () => (await app.Queue(queues.Echo).GetPropertiesAsync()).Value.ApproximateMessagesCount == 0, "the message to be deleted");
    }

    [Fact]
    public async Task Message_whose_function_throws_moves_to_poison_queue_after_max_dequeue_count()
    {
        var (app, log, queues) = await ProbeApp.StartAsync();
        await using var _ = app;

        await app.SendAsync(queues.Fail, new ProbeMessage("bad", "always fails", 1));

        var poison = app.Queue(queues.Fail + "-poison");
        await TestApp.EventuallyAsync(async () => (await poison.PeekMessagesAsync(1)).Value.Length == 1, "the message in the poison queue");
        var message = (await poison.ReceiveMessageAsync()).Value;
        Assert.Equal("bad", JsonSerializer.Deserialize<ProbeMessage>(message.Body.ToString(), Core.Configuration.NmsJson.Queue)!.Id);
        Assert.Equal(3, log.Failures);
        Assert.Empty((await app.Queue(queues.Fail).PeekMessagesAsync(1)).Value);
    }

    [Fact]
    public async Task Message_that_is_not_valid_json_for_the_trigger_type_is_poisoned_and_others_still_flow()
    {
        var (app, log, queues) = await ProbeApp.StartAsync();
        await using var _ = app;

        await app.Queue(queues.Echo).SendMessageAsync(BinaryData.FromString("{ this is not json"));
        await app.SendAsync(queues.Echo, new ProbeMessage("good", "fine", 2));

        var poison = app.Queue(queues.Echo + "-poison");
        await TestApp.EventuallyAsync(async () => (await poison.PeekMessagesAsync(1)).Value.Length == 1, "the malformed message in the poison queue");
        Assert.Equal("good", Assert.Single(log.Received).Id);
    }

    [Fact]
    public async Task Timer_fires_on_its_ncrontab_schedule()
    {
        var (app, log, _) = await ProbeApp.StartAsync(timerSchedule: "*/1 * * * * *");
        await using var __ = app;

        await TestApp.EventuallyAsync(() => Task.FromResult(log.Ticks.Count >= 3), "three ticks of a one-second timer", TimeSpan.FromSeconds(10));
        // Occurrences, not wall-clock gaps: a loaded machine may run a tick late (and then skip
        // what it missed), but every run is a distinct whole-second occurrence of the schedule.
        var occurrences = log.Occurrences.ToArray();
        Assert.All(occurrences, due => Assert.Equal(0, due.Millisecond));
        Assert.All(occurrences.Zip(occurrences.Skip(1)), pair =>
        {
            var gap = pair.Second - pair.First;
            Assert.True(gap >= TimeSpan.FromSeconds(1) && gap.Ticks % TimeSpan.TicksPerSecond == 0, $"occurrences {pair.First:O} then {pair.Second:O}");
        });
        var ticks = log.Ticks.ToArray();
        Assert.All(ticks.Zip(occurrences), pair => Assert.True(pair.First.UtcDateTime >= pair.Second.AddMilliseconds(-100), "a tick ran well before its occurrence"));
    }

    [Fact]
    public async Task In_flight_invocation_finishes_during_graceful_shutdown()
    {
        var (app, log, queues) = await ProbeApp.StartAsync(options => options.ShutdownGrace = TimeSpan.FromSeconds(10));
        await app.SendAsync(queues.Slow, new ProbeMessage("slow", "finish me", 3));
        await log.SlowStarted.Task.WaitAsync(TimeSpan.FromSeconds(20));

        var shutdownBegan = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = app.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.Register(shutdownBegan.SetResult);
        var stopping = app.StopAsync();
        await shutdownBegan.Task.WaitAsync(TimeSpan.FromSeconds(20));
        log.SlowMayFinish.SetResult();
        await stopping;

        Assert.Equal("slow", Assert.Single(log.Received).Id);
        Assert.Empty((await app.Queue(queues.Slow).PeekMessagesAsync(1)).Value);
        await app.DisposeAsync();
    }

    [Fact]
    public async Task Invocation_cut_off_at_shutdown_returns_its_message_to_the_queue()
    {
        var (app, log, queues) = await ProbeApp.StartAsync(options => options.ShutdownGrace = TimeSpan.FromMilliseconds(300));
        await app.SendAsync(queues.Slow, new ProbeMessage("cut", "never finishes", 4));
        await log.SlowStarted.Task.WaitAsync(TimeSpan.FromSeconds(20));

        await app.StopAsync();

        Assert.Equal(1, log.Cancelled);
        var visible = (await app.Queue(queues.Slow).PeekMessagesAsync(1)).Value;
        Assert.Equal("cut", JsonSerializer.Deserialize<ProbeMessage>(Assert.Single(visible).Body.ToString(), Core.Configuration.NmsJson.Queue)!.Id);
        Assert.Empty((await app.Queue(queues.Slow + "-poison").PeekMessagesAsync(1)).Value);
        await app.DisposeAsync();
    }

    [Fact]
    public async Task Unknown_route_is_a_problem_json_404()
    {
        await using var app = await TestApp.StartAsync();

        var response = await app.Anonymous.GetAsync("no/such/route");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}
