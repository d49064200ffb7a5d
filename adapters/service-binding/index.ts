/** The `service-binding` sink: bindings as files under the Service Binding spec layout. */
export { ServiceBindingSink, type ServiceBindingSinkOptions } from './sink.ts'
