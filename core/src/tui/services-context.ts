import { createContext, useContext } from 'react'
import type { TuiServices } from './services.js'

export const ServicesContext = createContext<TuiServices | undefined>(undefined)

export function useServices(): TuiServices {
  const services = useContext(ServicesContext)
  if (services === undefined) throw new Error('useServices() outside <ServicesContext.Provider>')
  return services
}
