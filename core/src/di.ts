// tsyringe needs the Reflect metadata polyfill loaded before it; every decorated class imports
// the decorators from here so the order holds whatever module is loaded first.
import 'reflect-metadata'

export { container, inject, injectable, type DependencyContainer } from 'tsyringe'
