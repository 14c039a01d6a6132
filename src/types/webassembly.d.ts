// The WebAssembly globals Node provides; TypeScript only declares them in the DOM library, which this
// server does not load. Just what src/tooling/migrate/engine.ts uses to instantiate Prisma's schema engine.
declare namespace WebAssembly {
  type ModuleImports = Record<string, unknown>;
  type Imports = Record<string, ModuleImports>;
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(module: Module, imports?: Imports);
    readonly exports: Record<string, unknown>;
  }
}
