#!/usr/bin/env node
// Test stand-in for the snmp plugin's -discovery mode, used by the discovery tests only when
// NMS_PLUGINS_DIR holds no real snmp plugin. Same contract (plugins/README.md): one JSON request
// on stdin, one JSON response on stdout. Probes sysName.0 and sysDescr.0 with net-snmp's snmpget,
// trying the target's credentials in order. The community goes to snmpget through a private
// snmp.conf (SNMPCONFPATH), never on its command line.
"use strict";
const { execFile } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");

if (process.argv[2] !== "-discovery") {
  process.stderr.write("stand-in supports -discovery only\n");
  process.exit(2);
}

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", async () => {
  const request = JSON.parse(input);
  const dirs = new Map();
  const confFor = (credential) => {
    if (!dirs.has(credential.id)) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nms-standin-"));
      fs.writeFileSync(path.join(dir, "snmp.conf"), `defVersion 2c\ndefCommunity ${credential.community}\n`, { mode: 0o600 });
      dirs.set(credential.id, dir);
    }
    return dirs.get(credential.id);
  };
  const get = (target, credential) =>
    new Promise((resolve) => {
      const args = ["-t", String(request.timeout_ms / 1000), "-r", "0", "-Oqv", `${target.ip}:${target.port}`, "1.3.6.1.2.1.1.5.0", "1.3.6.1.2.1.1.1.0"];
      execFile("snmpget", args, { env: { ...process.env, SNMPCONFPATH: confFor(credential), MIBS: "" } }, (error, stdout, stderr) => {
        if (error) {
          resolve({ ok: false, error: /Timeout/.test(stderr) ? "timeout: no SNMP response" : (stderr || error.message).trim() });
        } else {
          const [hostname, description] = stdout.trim().split("\n").map((s) => s.replace(/^"|"$/g, ""));
          resolve({ ok: true, hostname, description });
        }
      });
    });
  const results = await Promise.all(
    request.targets.map(async (target) => {
      let last = "no credentials";
      for (const credential of target.credentials || []) {
        if (credential.protocol !== "snmp_v2c") { last = `unsupported protocol ${credential.protocol}`; continue; }
        const answer = await get(target, credential);
        if (answer.ok) {
          return { id: target.id, success: true, hostname: answer.hostname, description: answer.description, credential_id: credential.id };
        }
        last = answer.error;
      }
      return { id: target.id, success: false, error: last };
    })
  );
  for (const dir of dirs.values()) fs.rmSync(dir, { recursive: true, force: true });
  process.stdout.write(JSON.stringify({ contract_version: 1, results }));
});
