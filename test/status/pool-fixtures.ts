// Fixtures for the pool route specs: a remote command the test releases, and a host that can be down.
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { eventually } from '../support/eventually.js';
import { remoteScratchPath } from '../support/ssh-servers.js';
import type { SshdHost } from '../support/sshd.js';

/** A remote command that says when it started and runs until the test opens its gate. */
export class GatedCommand {
  private readonly startedFile = remoteScratchPath('started');
  private readonly gateFile = remoteScratchPath('gate');
  readonly command = `touch ${this.startedFile}; while [ ! -e ${this.gateFile} ]; do sleep 0.05; done; echo finished`;

  started(): Promise<void> {
    return eventually('the gated command to start', () => existsSync(this.startedFile));
  }
  open(): void {
    writeFileSync(this.gateFile, '');
  }
  remove(): void {
    rmSync(this.startedFile, { force: true });
    rmSync(this.gateFile, { force: true });
  }
}

/** A TCP front for an sshd that either drops every connection (a host that is down) or forwards it. */
export class SwitchableProxy {
  forwardTo: { host: string; port: number } | null = null;
  private readonly sockets = new Set<Socket>();
  private constructor(private readonly server: Server) {}

  static async start(): Promise<SwitchableProxy> {
    const proxy: SwitchableProxy = new SwitchableProxy(createServer((socket) => proxy.accept(socket)));
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }
  get port(): number {
    const address = this.server.address();
    return typeof address === 'object' && address ? address.port : 0;
  }
  private accept(socket: Socket): void {
    if (!this.forwardTo) return void socket.destroy();
    const upstream = connect(this.forwardTo.port, this.forwardTo.host);
    for (const s of [socket, upstream]) {
      this.sockets.add(s);
      s.on('error', () => undefined).on('close', () => this.sockets.delete(s));
    }
    socket.pipe(upstream).pipe(socket);
  }
  /** Drops every connection through it, as a peer that went away does. */
  cut(): void {
    for (const socket of this.sockets) socket.destroy();
  }
  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
