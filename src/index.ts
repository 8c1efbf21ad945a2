export * from './x86/registers';
export * from './x86/ftrace-site';
