using Nms.Core.Api;
using Nms.Core.Discovery;

namespace Nms.Tests.Discovery;

public sealed class DiscoveryTargetTests
{
    private const long Cap = 65_536;

    private static List<string> Expand(string target, long cap = Cap) =>
        DiscoveryTarget.Parse(target, cap).Addresses().Select(a => a.ToString()).ToList();

    private static ProblemException Rejected(string? target, long cap = Cap) =>
        Assert.Throws<ProblemException>(() => DiscoveryTarget.Parse(target, cap));

    [Fact]
    public void Slash_24_excludes_network_and_broadcast()
    {
        var addresses = Expand("192.0.2.0/24");

        Assert.Equal(254, addresses.Count);
        Assert.Equal("192.0.2.1", addresses[0]);
        Assert.Equal("192.0.2.254", addresses[^1]);
    }

    [Fact]
    public void Slash_30_keeps_only_its_two_hosts()
    {
        Assert.Equal(["10.0.0.1", "10.0.0.2"], Expand("10.0.0.0/30"));
    }

    [Fact]
    public void Slash_31_keeps_both_addresses()
    {
        Assert.Equal(["10.0.0.4", "10.0.0.5"], Expand("10.0.0.4/31"));
    }

    [Fact]
    public void Slash_32_is_the_single_address()
    {
        Assert.Equal(["10.0.0.9"], Expand("10.0.0.9/32"));
    }

    [Fact]
    public void Cidr_with_host_bits_set_means_its_network()
    {
        var addresses = Expand("10.1.2.77/24");

        Assert.Equal(254, addresses.Count);
        Assert.Equal("10.1.2.1", addresses[0]);
    }

    [Fact]
    public void Slash_16_counts_65534_without_materialising()
    {
        var target = DiscoveryTarget.Parse("10.20.0.0/16", Cap);

        Assert.Equal(65_534, target.Count);
        Assert.Equal("10.20.0.1", target.Addresses().First().ToString());
        Assert.Equal("10.20.255.254", target.Addresses().Last().ToString());
    }

    [Fact]
    public void Full_range_is_inclusive_and_crosses_octet_boundaries()
    {
        var addresses = Expand("10.0.0.254-10.0.1.2");

        Assert.Equal(["10.0.0.254", "10.0.0.255", "10.0.1.0", "10.0.1.1", "10.0.1.2"], addresses);
    }

    [Fact]
    public void Last_octet_shorthand_stays_in_the_first_addresses_slash_24()
    {
        Assert.Equal(["10.0.0.5", "10.0.0.6", "10.0.0.7"], Expand("10.0.0.5-7"));
    }

    [Fact]
    public void Spaces_around_parts_and_dashes_are_ignored()
    {
        Assert.Equal(["10.0.0.1", "10.0.0.2", "10.0.0.9"], Expand(" 10.0.0.1 - 10.0.0.2 , 10.0.0.9 "));
    }

    [Fact]
    public void Comma_list_is_sorted_and_merged_without_duplicates()
    {
        var addresses = Expand("10.0.0.9,10.0.0.1-3,10.0.0.2,10.0.0.0/30,10.0.0.3");

        Assert.Equal(["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.9"], addresses);
        Assert.Equal(4, DiscoveryTarget.Parse("10.0.0.9,10.0.0.1-3,10.0.0.2,10.0.0.0/30,10.0.0.3", Cap).Count);
    }

    [Fact]
    public void Adjacent_parts_merge_into_one_run()
    {
        Assert.Equal(["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"], Expand("10.0.0.3-4,10.0.0.1-2"));
    }

    [Fact]
    public void Overlapping_cidrs_count_each_address_once()
    {
        var target = DiscoveryTarget.Parse("10.0.0.0/24,10.0.0.0/25,10.0.0.100-10.0.0.200", Cap);

        Assert.Equal(254, target.Count);
        Assert.Equal(254, target.Addresses().Distinct().Count());
    }

    [Fact]
    public void Empty_commas_are_ignored()
    {
        Assert.Equal(["10.0.0.1", "10.0.0.2"], Expand("10.0.0.1,,10.0.0.2,"));
    }

    [Theory]
    [InlineData("192.168.001.010")]
    [InlineData("010.0.0.1/24")]
    [InlineData("10.0.0.1-10.0.0.09")]
    public void Leading_zeros_are_refused_as_ambiguous(string target)
    {
        // Other tools read 010 as octal (8): which network was meant cannot be told.
        Assert.Contains("leading zeros", Rejected(target).Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0.0.0.0", "unspecified")]
    [InlineData("0.1.2.3", "unspecified")]
    [InlineData("255.255.255.255", "broadcast")]
    [InlineData("224.0.0.1", "multicast")]
    [InlineData("224.0.0.0/24", "multicast")]
    [InlineData("239.0.0.1-239.0.0.9", "multicast")]
    [InlineData("::", "unspecified")]
    [InlineData("10.0.0.1,::-::", "unspecified")]
    public void Parts_that_hold_no_possible_device_are_a_400_saying_why(string target, string reason)
    {
        var problem = Rejected(target);

        Assert.Equal("target", problem.Field);
        Assert.Contains(reason, problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Top_of_the_address_space_does_not_overflow()
    {
        Assert.Equal(["255.255.255.254", "255.255.255.255"], Expand("255.255.255.254-255.255.255.255"));
    }

    [Fact]
    public void Exactly_the_cap_is_accepted()
    {
        Assert.Equal(254, DiscoveryTarget.Parse("10.0.0.0/24", 254).Count);
    }

    [Fact]
    public void One_over_the_cap_is_a_400_naming_the_counts()
    {
        var problem = Rejected("10.0.0.0/24", 253);

        Assert.Equal(400, problem.Status);
        Assert.Equal("target", problem.Field);
        Assert.Equal(254L, problem.Extensions["address_count"]);
        Assert.Equal(253L, problem.Extensions["max_addresses"]);
    }

    [Fact]
    public void Slash_15_is_over_the_default_cap()
    {
        Assert.Equal(400, Rejected("10.0.0.0/15").Status);
    }

    [Fact]
    public void Whole_internet_is_rejected_by_the_cap_not_expanded()
    {
        Assert.Contains("more than the limit", Rejected("0.0.0.0/0").Detail);
    }

    [Fact]
    public void Cap_counts_distinct_addresses_after_merging()
    {
        Assert.Equal(254, DiscoveryTarget.Parse("10.0.0.0/24,10.0.0.0/24,10.0.0.1", 254).Count);
    }

    [Fact]
    public void Ipv6_addresses_ranges_and_small_prefixes_expand_after_ipv4()
    {
        var target = DiscoveryTarget.Parse("2001:db8::10-2001:db8::12, 10.0.0.1, fd15::1, 2001:db8::11", 100);
        Assert.Equal(["10.0.0.1", "2001:db8::10", "2001:db8::11", "2001:db8::12", "fd15::1"], target.Addresses().Select(a => a.ToString()));
        Assert.Equal(5, target.Count);
    }

    [Fact]
    public void Ipv6_slash_112_is_65535_hosts_without_the_subnet_router_anycast_address()
    {
        var target = DiscoveryTarget.Parse("2001:db8:0:1::/112", 65_536);
        Assert.Equal(65_535, target.Count);
        Assert.Equal("2001:db8:0:1::1", target.Addresses().First().ToString());
        Assert.Equal("2001:db8:0:1::ffff", target.Addresses().Last().ToString());
        Assert.Equal(2, DiscoveryTarget.Parse("2001:db8::/127", 10).Count);
    }

    [Fact]
    public void Ipv6_slash_64_is_a_400_explaining_why_it_cannot_be_swept()
    {
        var problem = Rejected("2001:db8::/64");
        Assert.Equal(400, problem.Status);
        Assert.Contains("2^64 addresses and cannot be swept", problem.Detail, StringComparison.Ordinal);
        Assert.Contains("/112", problem.Detail, StringComparison.Ordinal);
        Assert.Contains("cannot be swept", Rejected("2001:db8::/111").Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("10.0.0.1,fe80::1", "link-local")]
    [InlineData("fe80::1%2", "not an IPv6 address")]
    [InlineData("::ffff:10.0.0.1", "as IPv4")]
    [InlineData("ff02::1", "multicast")]
    [InlineData("2001:db8::5-2001:db8::1", "ends before it starts")]
    [InlineData("2001:db8::-2001:db8::1:0", "more than the limit")]
    [InlineData("2001:db8::/129", "0 to 128")]
    [InlineData("2001:db8:::1", "not an IPv6 address")]
    public void Unusable_ipv6_targets_are_a_400_saying_why(string target, string reason)
    {
        var problem = Rejected(target);
        Assert.Equal(400, problem.Status);
        Assert.Contains(reason, problem.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(",,")]
    [InlineData(null)]
    public void Empty_target_is_a_400(string? target)
    {
        var problem = Rejected(target);

        Assert.Equal(400, problem.Status);
        Assert.Equal("target", problem.Field);
    }

    [Theory]
    [InlineData("10.0.0")]
    [InlineData("10.1")]
    [InlineData("10.0.0.0.1")]
    [InlineData("10.0.0.256")]
    [InlineData("0x0a.0.0.1")]
    [InlineData("10.0.0.1a")]
    [InlineData("10.0.0.-1")]
    [InlineData("10.0.0.0001")]
    [InlineData("host.example")]
    [InlineData("10.0.0.0/33")]
    [InlineData("10.0.0.0/-1")]
    [InlineData("10.0.0.0/+8")]
    [InlineData("10.0.0.0/")]
    [InlineData("10.0.0.0/24/8")]
    [InlineData("10.0.0.5-3")]
    [InlineData("10.0.0.5-256")]
    [InlineData("10.0.0.5-")]
    [InlineData("-10.0.0.5")]
    [InlineData("10.0.0.9-10.0.0.1")]
    [InlineData("10.0.0.1-10.0.0.5-7")]
    [InlineData("10.0.0.1 10.0.0.2")]
    public void Malformed_target_is_a_400_naming_the_field(string target)
    {
        var problem = Rejected(target);

        Assert.Equal(400, problem.Status);
        Assert.Equal("target", problem.Field);
        Assert.False(string.IsNullOrWhiteSpace(problem.Detail));
    }

    [Fact]
    public void Field_name_can_be_chosen_by_the_caller()
    {
        Assert.Equal("profile.target", Assert.Throws<ProblemException>(() => DiscoveryTarget.Parse("nope", Cap, "profile.target")).Field);
    }

    [Fact]
    public void Error_names_the_bad_part_of_a_list()
    {
        Assert.Contains("10.0.0.300", Rejected("10.0.0.1,10.0.0.300").Detail);
    }
}
