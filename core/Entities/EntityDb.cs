using System.Diagnostics.CodeAnalysis;
using Npgsql;

namespace Nms.Core.Entities;

/// <summary>Small helpers over Npgsql for the entity services: commands from <see cref="EntitySql"/> constants only.</summary>
internal static class EntityDb
{
    [SuppressMessage("Security", "CA2100", Justification = "Callers pass EntitySql constants; values travel as parameters.")]
    public static NpgsqlCommand Command(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, params object?[] values)
    {
        var command = new NpgsqlCommand(sql, connection, transaction);
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value ?? DBNull.Value });
        }

        return command;
    }

    public static async Task<int> ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken cancellationToken, params object?[] values)
    {
        await using var command = Command(connection, transaction, sql, values);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public static async Task<List<T>> QueryAsync<T>(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, Func<NpgsqlDataReader, T> map, CancellationToken cancellationToken, params object?[] values)
    {
        await using var command = Command(connection, transaction, sql, values);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<T>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(map(reader));
        }

        return rows;
    }

    public static async Task<T?> QuerySingleAsync<T>(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, Func<NpgsqlDataReader, T> map, CancellationToken cancellationToken, params object?[] values)
        where T : class
    {
        var rows = await QueryAsync(connection, transaction, sql, map, cancellationToken, values);
        return rows.Count == 0 ? null : rows[0];
    }

    public static string? NullableString(this NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    public static long? NullableInt64(this NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetInt64(ordinal);

    public static DateTimeOffset Timestamp(this NpgsqlDataReader reader, int ordinal) => reader.GetFieldValue<DateTimeOffset>(ordinal);

    public static DateTimeOffset? NullableTimestamp(this NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetFieldValue<DateTimeOffset>(ordinal);

    /// <summary>True for a unique or foreign-key violation of the named constraint: the only database errors mapped to 4xx.</summary>
    public static bool Violates(this PostgresException exception, string sqlState, string constraint) =>
        exception.SqlState == sqlState && string.Equals(exception.ConstraintName, constraint, StringComparison.Ordinal);
}

/// <summary>The constraints the API maps to 409 (or 400), by name, as 001_initial.sql creates them.</summary>
internal static class Constraints
{
    public const string CredentialName = "credential_profiles_name_key";
    public const string DiscoveryName = "discovery_profiles_name_key";
    public const string DeviceIpPort = "devices_ip_port_unique";
    public const string DeviceCredential = "devices_credential_profile_id_fkey";
    public const string DiscoveryCredential = "discovery_profile_credentials_credential_profile_id_fkey";
    public const string PollProfileName = "poll_profiles_name_key";
    public const string DevicePollProfile = "devices_poll_profile_id_fkey";
    public const string DiscoveryPollProfile = "discovery_profiles_poll_profile_id_fkey";
}
