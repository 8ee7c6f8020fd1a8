using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Nms.Plugins.Snmp.Codec;

/// <summary>
/// ICMP errors on an unconnected UDP socket (Linux IP_RECVERR): the kernel queues each with the destination and the
/// payload of the datagram that caused it, so a shared socket can tell which agent's port was unreachable. .NET has
/// no API for the error queue (MSG_ERRQUEUE), hence recvmsg from libc.
/// </summary>
internal static unsafe partial class UdpErrorQueue
{
    private const int SolIp = 0, IpRecvErr = 11, SolIpv6 = 41, Ipv6RecvErr = 25;
    private const int MsgDontWait = 0x40, MsgErrQueue = 0x2000;
    private const int ConnectionRefused = 111, NetworkUnreachable = 101, HostUnreachable = 113;

    public static void Enable(Socket socket, AddressFamily family)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var on = BitConverter.GetBytes(1);
        if (family == AddressFamily.InterNetworkV6)
        {
            socket.SetRawSocketOption(SolIpv6, Ipv6RecvErr, on);
        }
        else
        {
            socket.SetRawSocketOption(SolIp, IpRecvErr, on);
        }
    }

    public static bool IsIcmpReport(SocketError error) =>
        error is SocketError.ConnectionRefused or SocketError.ConnectionReset or SocketError.HostUnreachable or SocketError.NetworkUnreachable;

    public static string Describe(int errno) => errno switch
    {
        ConnectionRefused => "port unreachable: nothing listens on the SNMP port (ICMP port unreachable)",
        HostUnreachable => "socket error: HostUnreachable",
        NetworkUnreachable => "socket error: NetworkUnreachable",
        _ => $"socket error: errno {errno}",
    };

    /// <summary>One queued error, without waiting: the datagram's destination and payload, and the error number.</summary>
    public static bool TryRead(Socket socket, SocketAddress destination, byte[] payload, out int length, out int errno)
    {
        (length, errno) = (0, 0);
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        var control = stackalloc byte[512];
        fixed (byte* name = destination.Buffer.Span)
        fixed (byte* data = payload)
        {
            var iov = new IoVec { Base = data, Length = (nuint)payload.Length };
            var message = new MsgHdr
            {
                Name = name,
                NameLength = (uint)destination.Buffer.Length,
                Iov = &iov,
                IovLength = 1,
                Control = control,
                ControlLength = 512,
            };
            var read = RecvMsg(socket.Handle, &message, MsgErrQueue | MsgDontWait);
            if (read < 0)
            {
                return false;
            }

            destination.Size = (int)message.NameLength;
            length = (int)Math.Min((nint)payload.Length, read);
            errno = ExtendedErrno(control, (int)message.ControlLength);
            return true;
        }
    }

    // struct cmsghdr { size_t len; int level; int type; } then sock_extended_err, whose first field is ee_errno.
    private static int ExtendedErrno(byte* control, int length)
    {
        var offset = 0;
        while (offset + 16 + 4 <= length)
        {
            var cmsgLength = (int)*(nuint*)(control + offset);
            var level = *(int*)(control + offset + 8);
            var type = *(int*)(control + offset + 12);
            if ((level == SolIp && type == IpRecvErr) || (level == SolIpv6 && type == Ipv6RecvErr))
            {
                return *(int*)(control + offset + 16);
            }

            if (cmsgLength < 16)
            {
                break;
            }

            offset += (cmsgLength + 7) & ~7;
        }

        return ConnectionRefused;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct IoVec
    {
        public byte* Base;
        public nuint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MsgHdr
    {
        public byte* Name;
        public uint NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public byte* Control;
        public nuint ControlLength;
        public int Flags;
    }

    [LibraryImport("libc.so.6", EntryPoint = "recvmsg", SetLastError = true)]
    private static partial nint RecvMsg(nint socket, MsgHdr* message, int flags);
}
