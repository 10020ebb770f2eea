"""Devices reached over SSH: the scrapli transport, Nornir/NetBox inventory, real gear.

- `transport.SshTransport`: execute/configure on Cisco IOS devices over SSH (scrapli,
  `cisco_iosxe`, paramiko transport), one reused session per device, timeouts and a
  retry on transient failures. Output is the device's text: the tools parse it with
  ntc-templates exactly as they parse the twin's in-process output.
- the agent gets `NetworkView.with_transport(SshTransport(...))` (issue 10 seam).
- `inventory`: Nornir SimpleInventory in and out, NetBox REST exports in.
- `gear.GearLab`: real devices from a Nornir inventory (read-only unless allowed).
"""
