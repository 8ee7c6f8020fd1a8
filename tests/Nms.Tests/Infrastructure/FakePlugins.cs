using Nms.Plugins.Sdk;

namespace Nms.Tests.Infrastructure;

/// <summary>
/// A plugins directory of the test's own: fake plugins as tiny /bin/sh scripts speaking the JSON
/// contract, and links to the real plugins that <c>./nms test</c> publishes into NMS_PLUGINS_DIR.
/// </summary>
public sealed class FakePlugins : IDisposable
{
    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("nms-fake-plugins-").FullName;

    /// <summary>Writes an executable script named <paramref name="name"/> (the body runs under /bin/sh).</summary>
    public void Add(string name, string body)
    {
        var path = Path.Combine(Directory, name);
        File.WriteAllText(path, "#!/bin/sh\n" + body.ReplaceLineEndings("\n") + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute);
        }
    }

    /// <summary>Plugins that are installed and answer every call with no results.</summary>
    public void AddSilent(params string[] names)
    {
        foreach (var name in names)
        {
            Add(name, """echo '{"contract_version":1,"results":[]}'""");
        }
    }

    /// <summary>
    /// A plugin that answers every target with success and metrics <c>up</c>=1 and <c>port</c>=its port,
    /// except the ids listed in <paramref name="omit"/>, which it leaves out of its output.
    /// </summary>
    public void AddEcho(string name, params long[] omit)
    {
        var skip = string.Join(' ', omit);
        Add(name, $$$"""
            input=$(cat)
            printf '{"contract_version":1,"results":['
            first=1
            for t in $(printf '%s' "$input" | tr '{' '\n' | grep '"id"' | sed -E 's/.*"id":"([0-9]+)","ip":"([^"]+)","port":([0-9]+).*/\1:\3/'); do
              id=${t%%:*}; port=${t##*:}
              case " {{{skip}}} " in *" $id "*) continue;; esac
              [ $first = 1 ] || printf ','
              first=0
              printf '{"id":"%s","success":true,"metrics":[{"name":"up","value":1},{"name":"port","value":%s,"labels":{"kind":"tcp"}}]}' "$id" "$port"
            done
            printf ']}'
            """);
    }

    /// <summary>
    /// A plugin whose every target fails with "agent down" until a file named <c>up</c> exists in its
    /// directory (<see cref="BringUp"/>), then succeeds with hostname <c>fake-&lt;id&gt;</c>.
    /// </summary>
    public void AddSwitchable(string name) =>
        Add(name, """
            input="$(cat)"
            here="$(dirname "$0")"
            results=""
            for id in $(printf '%s' "$input" | grep -o '"id":"[^"]*"' | cut -d'"' -f4); do
              if [ -f "$here/up" ]; then r="{\"id\":\"$id\",\"success\":true,\"hostname\":\"fake-$id\"}"
              else r="{\"id\":\"$id\",\"success\":false,\"error\":\"agent down\"}"; fi
              results="${results:+$results,}$r"
            done
            printf '{"contract_version":1,"results":[%s]}' "$results"
            """);

    /// <summary>Makes the <see cref="AddSwitchable"/> plugins of this directory succeed from now on.</summary>
    public void BringUp() => File.WriteAllText(Path.Combine(Directory, "up"), "");

    /// <summary>Links the real plugin <paramref name="name"/> (published by ./nms test) in under its own name.</summary>
    public void AddReal(string name)
    {
        var real = Path.Combine(TestEnvironment.PluginsDirectory, name);
        if (!File.Exists(real))
        {
            throw new InvalidOperationException($"{real} does not exist: run the tests with ./nms test, which publishes the plugins.");
        }

        File.CreateSymbolicLink(Path.Combine(Directory, name), real);
        if (File.Exists(real + ContractInfo.ManifestSuffix))
        {
            File.CreateSymbolicLink(Path.Combine(Directory, name + ContractInfo.ManifestSuffix), real + ContractInfo.ManifestSuffix);
        }
    }

    /// <summary>
    /// A plugin that declares serve mode (a manifest beside it): <paramref name="body"/> runs under /bin/sh with
    /// <c>-serve</c> and reads one request per line; <see cref="ServeLoop"/> helps write one.
    /// </summary>
    public void AddServing(string name, string body)
    {
        Add(name, body);
        File.WriteAllText(Path.Combine(Directory, name + ContractInfo.ManifestSuffix), $$"""{"contract_version":1,"name":"{{name}}","serve":true}""");
    }

    /// <summary>
    /// A shell loop for <see cref="AddServing"/>: for each request line, sets <c>$batch</c> (its batch_id),
    /// <c>$ids</c> (its target ids) and <c>$n</c> (the request's ordinal, from 1), then runs <paramref name="each"/>,
    /// which prints the answer; <c>answer</c> prints a success with metric <c>up</c>=1 for every id.
    /// </summary>
    public static string ServeLoop(string each) => $$"""
        answer() {
          printf '{"contract_version":1,"batch_id":"%s","results":[' "$batch"
          first=1
          for id in $ids; do [ $first = 1 ] || printf ','; first=0; printf '{"id":"%s","success":true,"metrics":[{"name":"up","value":1}]}' "$id"; done
          printf ']}\n'
        }
        n=0
        while IFS= read -r line; do
          n=$((n+1))
          batch=$(printf '%s' "$line" | grep -o '"batch_id":"[^"]*"' | cut -d'"' -f4)
          ids=$(printf '%s' "$line" | grep -o '"id":"[^"]*"' | cut -d'"' -f4)
          {{each}}
        done
        """;

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A killed plugin may still hold the directory for a moment; the temp dir is cleaned later.
        }
    }
}
